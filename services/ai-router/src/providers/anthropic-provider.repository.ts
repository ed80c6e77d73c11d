import type { IncomingMessage } from 'node:http';
import type { ProviderConfig } from '../models/ai-models.config';
import {
  classifyHttpFailure,
  ProviderFailure,
  type CallOptions,
  type ChatMessage,
  type ChatParams,
  type ChatProvider,
  type ChatStreamEvent,
} from './chat-provider';
import { errorMessage, postWithRetries, readText } from './provider-http';
import { serverSentEvents } from './server-sent-events';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const API_VERSION = '2023-06-01';

// The only code that talks to Anthropic (one instance per configured provider): the Messages API
// over keep-alive HTTP, the request body serialised once and the answer parsed once.
export class AnthropicProviderRepository implements ChatProvider {
  private readonly url: URL;
  private readonly headers?: Record<string, string>;

  constructor(private readonly config: ProviderConfig) {
    this.url = new URL(`${(config.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '')}/v1/messages`);
    if (config.apiKey) this.headers = { 'x-api-key': config.apiKey, 'anthropic-version': API_VERSION, accept: 'application/json' };
  }

  async create(model: string, params: ChatParams, options: CallOptions): Promise<ChatMessage> {
    const response = await this.post(model, params, options, false);
    const text = await readText(response);
    try {
      return JSON.parse(text) as ChatMessage;
    } catch {
      throw new ProviderFailure('server', 'the provider answered with a body that is not JSON');
    }
  }

  async stream(model: string, params: ChatParams, options: CallOptions): Promise<AsyncIterable<ChatStreamEvent>> {
    return messageEvents(await this.post(model, params, options, true));
  }

  private post(model: string, params: ChatParams, options: CallOptions, stream: boolean): Promise<IncomingMessage> {
    if (!this.headers) return Promise.reject(new ProviderFailure('not_configured', `provider ${this.config.name} has no API key`));
    return postWithRetries({
      url: this.url,
      headers: stream ? { ...this.headers, accept: 'text/event-stream' } : this.headers,
      body: JSON.stringify({ ...params, model, stream }),
      maxAttempts: options.maxAttempts,
      timeoutMs: options.timeoutMs,
      stream,
    });
  }
}

// The stream's events as the SDK would yield them: pings skipped, an `error` event thrown.
async function* messageEvents(response: IncomingMessage): AsyncGenerator<ChatStreamEvent> {
  for await (const { event, data } of serverSentEvents(response)) {
    if (event === 'ping') continue;
    if (event === 'error') throw classifyHttpFailure(undefined, errorMessage(data), false, false);
    try {
      yield JSON.parse(data) as ChatStreamEvent;
    } catch {
      throw new ProviderFailure('server', 'the provider streamed an event that is not JSON');
    }
  }
}

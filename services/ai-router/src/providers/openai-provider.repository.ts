import type OpenAI from 'openai';
import type * as OpenAiSdk from 'openai';
import type { ProviderConfig } from '../models/ai-models.config';
import {
  classifyHttpFailure,
  countingFetch,
  ProviderFailure,
  type CallOptions,
  type ChatMessage,
  type ChatParams,
  type ChatProvider,
  type ChatStreamEvent,
} from './chat-provider';
import { fromOpenAiCompletion, toAnthropicEvents, toOpenAiRequest } from './openai-translation';

// The SDK is ~100 ms of module loading: required by the first call, not at the service's start.
const openAiSdk = (): typeof OpenAiSdk => require('openai') as typeof OpenAiSdk;

// The only code that talks to OpenAI-compatible endpoints (OpenAI, OpenRouter, Ollama, vLLM).
export class OpenAiProviderRepository implements ChatProvider {
  private client?: OpenAI;

  constructor(private readonly config: ProviderConfig) {}

  async create(model: string, params: ChatParams, options: CallOptions): Promise<ChatMessage> {
    const client = this.requireClient();
    try {
      const completion = await client.chat.completions.create(toOpenAiRequest(model, params), {
        maxRetries: options.maxAttempts - 1,
        timeout: options.timeoutMs,
      });
      return fromOpenAiCompletion(completion);
    } catch (err) {
      throw openAiFailure(err);
    }
  }

  async stream(model: string, params: ChatParams, options: CallOptions): Promise<AsyncIterable<ChatStreamEvent>> {
    const client = this.requireClient();
    try {
      const chunks = await client.chat.completions.create(
        { ...toOpenAiRequest(model, params), stream: true, stream_options: { include_usage: true } },
        { maxRetries: options.maxAttempts - 1, timeout: options.timeoutMs },
      );
      return toAnthropicEvents(chunks, model);
    } catch (err) {
      throw openAiFailure(err);
    }
  }

  private requireClient(): OpenAI {
    if (!this.config.apiKey) throw new ProviderFailure('not_configured', `provider ${this.config.name} has no API key`);
    this.client ??= new (openAiSdk().OpenAI)({ apiKey: this.config.apiKey, baseURL: this.config.baseUrl, fetch: countingFetch, maxRetries: 0 });
    return this.client;
  }
}

export function openAiFailure(err: unknown): ProviderFailure {
  if (err instanceof ProviderFailure) return err;
  const OpenAI = openAiSdk();
  if (err instanceof OpenAI.APIConnectionTimeoutError) return classifyHttpFailure(undefined, '', true, false);
  if (err instanceof OpenAI.APIConnectionError) return classifyHttpFailure(undefined, '', false, true);
  if (err instanceof OpenAI.APIError) {
    const code = typeof err.code === 'string' ? err.code : '';
    return classifyHttpFailure(err.status ?? undefined, `${code} ${err.message}`, false, false);
  }
  return new ProviderFailure('connection', 'the provider call failed');
}

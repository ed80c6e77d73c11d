import Anthropic from '@anthropic-ai/sdk';
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

// The only code that talks to Anthropic (one instance per configured provider).
export class AnthropicProviderRepository implements ChatProvider {
  private readonly client?: Anthropic;

  constructor(private readonly config: ProviderConfig) {
    if (config.apiKey) {
      this.client = new Anthropic({ apiKey: config.apiKey, baseURL: config.baseUrl, fetch: countingFetch, maxRetries: 0 });
    }
  }

  async create(model: string, params: ChatParams, options: CallOptions): Promise<ChatMessage> {
    const client = this.requireClient();
    try {
      return await client.messages.create({ ...params, model, stream: false }, { maxRetries: options.maxAttempts - 1, timeout: options.timeoutMs });
    } catch (err) {
      throw anthropicFailure(err);
    }
  }

  async stream(model: string, params: ChatParams, options: CallOptions): Promise<AsyncIterable<ChatStreamEvent>> {
    const client = this.requireClient();
    try {
      return await client.messages.create({ ...params, model, stream: true }, { maxRetries: options.maxAttempts - 1, timeout: options.timeoutMs });
    } catch (err) {
      throw anthropicFailure(err);
    }
  }

  private requireClient(): Anthropic {
    if (!this.client) throw new ProviderFailure('not_configured', `provider ${this.config.name} has no API key`);
    return this.client;
  }
}

export function anthropicFailure(err: unknown): ProviderFailure {
  if (err instanceof ProviderFailure) return err;
  if (err instanceof Anthropic.APIConnectionTimeoutError) return classifyHttpFailure(undefined, '', true, false);
  if (err instanceof Anthropic.APIConnectionError) return classifyHttpFailure(undefined, '', false, true);
  if (err instanceof Anthropic.APIError) return classifyHttpFailure(err.status ?? undefined, err.message, false, false);
  return new ProviderFailure('connection', 'the provider call failed');
}

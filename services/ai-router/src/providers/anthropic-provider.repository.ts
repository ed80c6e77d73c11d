import type Anthropic from '@anthropic-ai/sdk';
import type * as AnthropicSdk from '@anthropic-ai/sdk';
import { tracesExported } from '@overskill/observability';
import type { ProviderConfig } from '../models/ai-models.config';
import { anthropicRequestBody } from './anthropic-request-body';
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

// The SDK is ~150 ms of module loading: required by the first call, not at the service's start.
const anthropicSdk = (): typeof AnthropicSdk => require('@anthropic-ai/sdk') as typeof AnthropicSdk;

// The only code that talks to Anthropic (one instance per configured provider).
export class AnthropicProviderRepository implements ChatProvider {
  private client?: Anthropic;

  // spans: the SDK's own span per call; unset, whether this process exports spans.
  constructor(
    private readonly config: ProviderConfig,
    private readonly spans?: boolean,
  ) {}

  async create(model: string, params: ChatParams, options: CallOptions): Promise<ChatMessage> {
    const client = this.requireClient();
    const request = { ...params, model, stream: false as const };
    try {
      return await client.messages.create(request, requestOptions(request, options));
    } catch (err) {
      throw anthropicFailure(err);
    }
  }

  async stream(model: string, params: ChatParams, options: CallOptions): Promise<AsyncIterable<ChatStreamEvent>> {
    const client = this.requireClient();
    const request = { ...params, model, stream: true as const };
    try {
      return await client.messages.create(request, requestOptions(request, options));
    } catch (err) {
      throw anthropicFailure(err);
    }
  }

  private requireClient(): Anthropic {
    if (!this.config.apiKey) throw new ProviderFailure('not_configured', `provider ${this.config.name} has no API key`);
    // The trace context goes out once, from the HTTP client instrumentation (the SDK's copy of
    // the headers cost ~0.1 ms per call). The SDK's own span only where spans are exported:
    // elsewhere nobody reads it, and the HTTP span under the handler's still carries the trace.
    this.client ??= new (anthropicSdk().Anthropic)({
      apiKey: this.config.apiKey,
      baseURL: this.config.baseUrl,
      fetch: countingFetch,
      maxRetries: 0,
      openTelemetry: { propagation: false, traces: this.spans ?? tracesExported() },
    });
    return this.client;
  }
}

// The SDK sends a string body with a content type as it is: the request's JSON, written here with
// the tool list's JSON kept from the turn before (anthropic-request-body.ts).
function requestOptions(request: Parameters<typeof anthropicRequestBody>[0], options: CallOptions): Anthropic.RequestOptions {
  return {
    maxRetries: options.maxAttempts - 1,
    timeout: options.timeoutMs,
    body: anthropicRequestBody(request),
    headers: { 'content-type': 'application/json' },
  };
}

export function anthropicFailure(err: unknown): ProviderFailure {
  if (err instanceof ProviderFailure) return err;
  const Anthropic = anthropicSdk();
  if (err instanceof Anthropic.APIConnectionTimeoutError) return classifyHttpFailure(undefined, '', true, false);
  if (err instanceof Anthropic.APIConnectionError) return classifyHttpFailure(undefined, '', false, true);
  if (err instanceof Anthropic.APIError) return classifyHttpFailure(err.status ?? undefined, err.message, false, false);
  return new ProviderFailure('connection', 'the provider call failed');
}

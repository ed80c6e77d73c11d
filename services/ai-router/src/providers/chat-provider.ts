import type Anthropic from '@anthropic-ai/sdk';
import { contextSlot } from '@overskill/observability';
import { agentFetch } from './agent-fetch';

// The router's one request shape is the Anthropic Messages API's: providers of other shapes
// translate from it and back, so a fallback to another provider loses no content.
export type ChatParams = Omit<Anthropic.MessageCreateParamsNonStreaming, 'model' | 'stream'>;
export type ChatMessage = Anthropic.Message;
export type ChatStreamEvent = Anthropic.RawMessageStreamEvent;

export interface CallOptions {
  // Total HTTP attempts the SDK may make for this call (its retries included).
  maxAttempts: number;
  timeoutMs: number;
}

export interface ChatProvider {
  create(model: string, params: ChatParams, options: CallOptions): Promise<ChatMessage>;
  // Resolves once the provider accepted the request (status 200), so a failure before the first
  // event can still fall back; the events then follow in the Anthropic stream format.
  stream(model: string, params: ChatParams, options: CallOptions): Promise<AsyncIterable<ChatStreamEvent>>;
}

// Why a provider call failed, as far as routing cares.
export type FailureKind =
  'overloaded' | 'rate_limited' | 'server' | 'timeout' | 'connection' | 'context_window' | 'auth' | 'unknown_model' | 'invalid' | 'not_configured';

export class ProviderFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderFailure';
  }
}

// Another model may succeed where this one failed.
export function isFallbackWorthy(kind: FailureKind): boolean {
  return kind !== 'invalid';
}

// Failures that say the model (not the request) is unhealthy: they move its breaker. A model the
// provider does not know (retired, or misspelled in the config) fails every request alike, so
// its breaker spares each call a round trip before the fallback.
export function countsAgainstBreaker(kind: FailureKind): boolean {
  return kind === 'overloaded' || kind === 'rate_limited' || kind === 'server' || kind === 'timeout' || kind === 'connection' || kind === 'unknown_model';
}

const CONTEXT_WINDOW = /prompt is too long|context window|context_length_exceeded|maximum context length|too many tokens/i;

export function classifyHttpFailure(status: number | undefined, message: string, timeout: boolean, connection: boolean): ProviderFailure {
  if (timeout) return new ProviderFailure('timeout', 'the provider timed out');
  if (connection || status === undefined) return new ProviderFailure('connection', 'the provider could not be reached');
  if (status === 529) return new ProviderFailure('overloaded', 'the provider is overloaded (HTTP 529)', status);
  if (status === 429) return new ProviderFailure('rate_limited', 'the provider is rate limiting (HTTP 429)', status);
  if (status >= 500) return new ProviderFailure('server', `the provider failed (HTTP ${status})`, status);
  if ((status === 400 || status === 413) && CONTEXT_WINDOW.test(message))
    return new ProviderFailure('context_window', 'the prompt does not fit the model’s context window', status);
  if (status === 401 || status === 403) return new ProviderFailure('auth', `the provider refused our credentials (HTTP ${status})`, status);
  if (status === 404) return new ProviderFailure('unknown_model', 'the provider does not know this model, retired or misspelled (HTTP 404)', status);
  return new ProviderFailure('invalid', `the provider rejected the request (HTTP ${status}): ${message.slice(0, 300)}`, status);
}

// Counts HTTP attempts made by the SDKs inside one call (their own retries included), so the
// router can budget attempts across models. Carried in the request context's storage: a storage of
// its own would make every promise of the process copy one more store.
const attemptCounter = contextSlot<{ attempts: number }>('overskill.ai.attempts');

export async function countingAttempts<T>(call: () => Promise<T>): Promise<{ result?: T; error?: unknown; attempts: number }> {
  const counter = { attempts: 0 };
  try {
    const result = await attemptCounter.run(counter, call);
    return { result, attempts: counter.attempts };
  } catch (error) {
    return { error, attempts: counter.attempts };
  }
}

// Handed to both SDKs as their fetch: counts the attempt, then goes over the shared keep-alive connections.
export const countingFetch: typeof fetch = (input, init) => {
  const counter = attemptCounter.get();
  if (counter) counter.attempts += 1;
  return agentFetch(input, init);
};

import { createContextKey, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContextData {
  correlationId: string;
  tenantId?: string;
}

// One AsyncLocalStorage for the process, holding an OpenTelemetry Context: the trace context and
// the request's ids travel together. On Node 20 every AsyncLocalStorage makes every promise and
// callback of the process copy its store, so a second one for the request ids doubled that cost;
// startTracing registers a context manager on this same storage (shared-context-manager.ts).
export const contextStorage = new AsyncLocalStorage<Context>();
const REQUEST_KEY = createContextKey('overskill.request');

/** Per-request data that follows every awaited call, timer and callback started inside `run`. */
export const requestContext = {
  run<T>(data: RequestContextData, fn: () => T): T {
    return contextStorage.run((contextStorage.getStore() ?? ROOT_CONTEXT).setValue(REQUEST_KEY, data), fn);
  },
  // The trace context and the request's ids entered in one step (a handler's scope).
  runIn<T>(otelContext: Context, data: RequestContextData, fn: () => T): T {
    return contextStorage.run(otelContext.setValue(REQUEST_KEY, data), fn);
  },
  get(): RequestContextData | undefined {
    return contextStorage.getStore()?.getValue(REQUEST_KEY) as RequestContextData | undefined;
  },
};

/**
 * A value of one kind carried like the request's ids, on the same storage: set for `fn` and for
 * everything it starts, read anywhere below it. A feature that needs such a value takes a slot
 * instead of an AsyncLocalStorage of its own (each one costs every promise of the process).
 */
export function contextSlot<T>(name: string): { run<R>(value: T, fn: () => R): R; get(): T | undefined } {
  const key = createContextKey(name);
  return {
    run: (value, fn) => contextStorage.run((contextStorage.getStore() ?? ROOT_CONTEXT).setValue(key, value), fn),
    get: () => contextStorage.getStore()?.getValue(key) as T | undefined,
  };
}

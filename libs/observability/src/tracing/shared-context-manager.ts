import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { contextStorage } from '../context/request-context';

// OpenTelemetry's AsyncLocalStorage context manager (its bind() of functions and event emitters
// included) on the storage the request context uses, so the process keeps one AsyncLocalStorage.
export class SharedContextManager extends AsyncLocalStorageContextManager {
  constructor() {
    super();
    (this as unknown as { _asyncLocalStorage: typeof contextStorage })._asyncLocalStorage = contextStorage;
  }

  // The storage also carries the request context, which outlives any tracer provider.
  override disable(): this {
    return this;
  }
}

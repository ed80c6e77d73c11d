import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContextData {
  correlationId: string;
  tenantId?: string;
}

const storage = new AsyncLocalStorage<RequestContextData>();

/** Per-request data that follows every awaited call, timer and callback started inside `run`. */
export const requestContext = {
  run<T>(data: RequestContextData, fn: () => T): T {
    return storage.run(data, fn);
  },
  get(): RequestContextData | undefined {
    return storage.getStore();
  },
};

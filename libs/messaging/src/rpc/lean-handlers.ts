import type { INestMicroservice } from '@nestjs/common';
import { RpcParamtype } from '@nestjs/microservices/enums/rpc-paramtype.enum';
import { STATIC_CONTEXT } from '@nestjs/core/injector/constants';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { catchError, isObservable, type Observable } from 'rxjs';

// Nest's RpcContextCreator wraps every handler in guards, interceptors, pipes and exception filters,
// and does it with a chain of async functions that runs even when all of them are empty: about a
// dozen promises per request (each one also copying the AsyncLocalStorage store). Nothing to skip
// is known until Nest has resolved each handler's enhancers, so the choice is made with Nest's own
// creators, at the moment Nest makes the handler: a handler with no guard, interceptor or pipe (global,
// class, method or parameter), parameters that are only @Payload()/@Ctx() (or none), and a static
// scope gets a plain call instead; its exception filters (global and its own) still answer every
// error it throws or rejects with. Anything else gets Nest's handler, unchanged.

type Handler = (...args: unknown[]) => unknown;
interface ExceptionHandler {
  handle(exception: unknown, host: ExecutionContextHost): Observable<unknown>;
}
interface EnhancerCreator {
  create(instance: object, callback: Handler, moduleKey: string, contextId?: unknown, inquirerId?: string): unknown[];
}
interface ParamOption {
  index: number;
  type: unknown;
  pipes: unknown[];
  extractValue(...args: unknown[]): unknown;
}
// The parts of @nestjs/microservices' RpcContextCreator this reads (Nest 11).
interface RpcContextCreator {
  create(instance: object, callback: Handler, moduleKey: string, methodName: string, contextId?: unknown, inquirerId?: string, defaults?: object): Handler;
  getMetadata(
    instance: object,
    methodName: string,
    defaults: object | undefined,
    type: 'rpc',
  ): { argsLength: number; getParamsMetadata(moduleKey: string): ParamOption[] };
  exceptionFiltersContext: { create(instance: object, callback: Handler, moduleKey: string, contextId?: unknown, inquirerId?: string): ExceptionHandler };
  guardsContextCreator: EnhancerCreator;
  interceptorsContextCreator: EnhancerCreator;
  pipesContextCreator: EnhancerCreator;
}

// Handlers made here, so a spec can tell which path a handler took.
const leanHandlers = new WeakSet<Handler>();

export function isLeanRpcHandler(handler: unknown): boolean {
  return typeof handler === 'function' && leanHandlers.has(handler as Handler);
}

// Call before Nest registers the microservice's listeners (registerListeners / init).
export function useLeanRpcHandlers(microservice: INestMicroservice): void {
  const creator = (microservice as unknown as { microservicesModule?: { listenersController?: { contextCreator?: RpcContextCreator } } }).microservicesModule
    ?.listenersController?.contextCreator;
  // A Nest upgrade that moved these internals fails loudly at start instead of silently losing the path.
  if (!creator || typeof creator.create !== 'function' || typeof creator.getMetadata !== 'function' || !creator.exceptionFiltersContext) {
    throw new Error("useLeanRpcHandlers: this @nestjs/microservices version's RpcContextCreator is not the one it was written for");
  }
  const nestCreate = creator.create.bind(creator);
  creator.create = (instance, callback, moduleKey, methodName, contextId = STATIC_CONTEXT, inquirerId, defaults) =>
    leanHandler(creator, instance, callback, moduleKey, methodName, contextId, inquirerId, defaults) ??
    nestCreate(instance, callback, moduleKey, methodName, contextId, inquirerId, defaults);
}

function leanHandler(
  creator: RpcContextCreator,
  instance: object,
  callback: Handler,
  moduleKey: string,
  methodName: string,
  contextId: unknown,
  inquirerId: string | undefined,
  defaults: object | undefined,
): Handler | undefined {
  if (contextId !== STATIC_CONTEXT || inquirerId !== undefined) return undefined;
  for (const enhancers of [creator.guardsContextCreator, creator.interceptorsContextCreator, creator.pipesContextCreator]) {
    if (enhancers.create(instance, callback, moduleKey, contextId, inquirerId).length > 0) return undefined;
  }
  const { argsLength, getParamsMetadata } = creator.getMetadata(instance, methodName, defaults, 'rpc');
  const params = getParamsMetadata(moduleKey);
  // Custom parameter decorators may return promises Nest would await: those keep Nest's path.
  if (params.some((p) => p.pipes.length > 0 || (p.type !== RpcParamtype.PAYLOAD && p.type !== RpcParamtype.CONTEXT))) return undefined;
  const exceptions = creator.exceptionFiltersContext.create(instance, callback, moduleKey, contextId, inquirerId);
  // What Nest's RpcProxy does with an error: its exception handler answers with an Observable.
  const handleError = (args: unknown[], err: unknown) => {
    const host = new ExecutionContextHost(args);
    host.setType('rpc');
    return exceptions.handle(err, host);
  };
  const settle = (args: unknown[], result: unknown) => (isObservable(result) ? result.pipe(catchError((err: unknown) => handleError(args, err))) : result);

  const lean: Handler = (...args) => {
    let result: unknown;
    try {
      // Nest hands the handler the arguments its parameter metadata picks, or all of them without any.
      if (params.length === 0) result = callback.apply(instance, args);
      else {
        const picked = new Array<unknown>(argsLength);
        for (const p of params) picked[p.index] = p.extractValue(...args);
        result = callback.apply(instance, picked);
      }
    } catch (err) {
      return handleError(args, err);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value: unknown) => settle(args, value),
        (err: unknown) => handleError(args, err),
      );
    }
    return settle(args, result);
  };
  leanHandlers.add(lean);
  return lean;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

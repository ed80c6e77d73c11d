import 'reflect-metadata';
import {
  Catch,
  Controller,
  createParamDecorator,
  Injectable,
  Module,
  Scope,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestMicroservice,
  type NestInterceptor,
  type PipeTransform,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { AppError, ErrorCode } from '@overskill/contracts';
import pino from 'pino';
import { firstValueFrom, isObservable, map, throwError, type Observable } from 'rxjs';
import { isLeanRpcHandler, useLeanRpcHandlers } from './lean-handlers';
import { RpcErrorFilter } from './rpc-error.filter';

// A transport that only keeps the handlers Nest gives it, so each can be called as NatsRpcServer calls it.
class RecordingServer extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    callback();
  }
  close(): void {
    this.messageHandlers.clear();
  }
  on(): void {
    throw new Error('not used here');
  }
  unwrap<T>(): T {
    return undefined as T;
  }
  handler(pattern: string): MessageHandler {
    const h = this.messageHandlers.get(pattern);
    if (!h) throw new Error(`no handler for ${pattern}`);
    return h;
  }
}

const seen: string[] = [];

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    seen.push(`guard ${String(ctx.switchToRpc().getData<{ allow?: boolean }>().allow)}`);
    return ctx.switchToRpc().getData<{ allow?: boolean }>().allow === true;
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.push('interceptor');
    return next.handle().pipe(map((value) => ({ wrapped: value })));
  }
}

class UpperPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    seen.push('pipe');
    return value.toUpperCase();
  }
}

@Catch()
class OwnFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    seen.push('own filter');
    return throwError(() => ({ code: ErrorCode.FORBIDDEN, message: `own filter: ${(exception as Error).message}` }));
  }
}

const Tenant = createParamDecorator((_data: unknown, ctx: ExecutionContext) => `tenant of ${String(ctx.switchToRpc().getData())}`);

@Controller()
class ProbeController {
  @MessagePattern('plain')
  plain(@Payload() payload: unknown, @Ctx() ctx: unknown): unknown {
    return { payload, ctx };
  }

  @MessagePattern('no-params')
  noParams(...args: unknown[]): unknown {
    return { args };
  }

  @MessagePattern('payload-field')
  field(@Payload('name') name: string): unknown {
    return { name };
  }

  @MessagePattern('async')
  async later(@Payload() payload: string): Promise<unknown> {
    await Promise.resolve();
    return { later: payload };
  }

  @MessagePattern('observable')
  stream(@Payload() payload: string): Observable<unknown> {
    return throwError(() => new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `no ${payload}`));
  }

  @MessagePattern('throws')
  throws(): unknown {
    throw new AppError(ErrorCode.APP_BUSY, 'busy');
  }

  @MessagePattern('rejects')
  async rejects(): Promise<unknown> {
    await Promise.resolve();
    throw new Error('secret detail');
  }

  @UseFilters(OwnFilter)
  @MessagePattern('own-filter')
  ownFilter(): unknown {
    throw new Error('boom');
  }

  @UseGuards(DenyGuard)
  @MessagePattern('guarded')
  guarded(): unknown {
    seen.push('guarded handler');
    return { ok: true };
  }

  @UseInterceptors(WrapInterceptor)
  @MessagePattern('intercepted')
  intercepted(): unknown {
    return 'inner';
  }

  @UsePipes(UpperPipe)
  @MessagePattern('piped')
  piped(@Payload() payload: string): unknown {
    return payload;
  }

  @MessagePattern('param-pipe')
  paramPipe(@Payload(UpperPipe) payload: string): unknown {
    return payload;
  }

  @MessagePattern('custom-param')
  custom(@Tenant() tenant: string): unknown {
    return tenant;
  }
}

@Controller({ scope: Scope.REQUEST })
class RequestScopedController {
  @MessagePattern('request-scoped')
  handle(@Payload() payload: string): unknown {
    return { scoped: payload };
  }
}

@Module({ controllers: [ProbeController, RequestScopedController], providers: [DenyGuard, WrapInterceptor] })
class ProbeModule {}

// What the transport does with a handler's outcome: a value, or the error an Observable ends with.
async function outcome(result: unknown): Promise<unknown> {
  const value = await result;
  if (!isObservable(value)) return value;
  try {
    return { value: await firstValueFrom(value) };
  } catch (err) {
    return { error: err };
  }
}

async function start(configure?: (ms: INestMicroservice) => void): Promise<{ ms: INestMicroservice; server: RecordingServer }> {
  const server = new RecordingServer();
  const ms = await NestFactory.createMicroservice(ProbeModule, { strategy: server, logger: false });
  ms.useGlobalFilters(new RpcErrorFilter(pino({ level: 'silent' })));
  configure?.(ms);
  useLeanRpcHandlers(ms);
  await ms.init();
  return { ms, server };
}

describe('lean RPC handlers', () => {
  let ms: INestMicroservice;
  let server: RecordingServer;

  beforeAll(async () => {
    ({ ms, server } = await start());
  });
  afterAll(async () => {
    await ms.close();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('calls a handler without enhancers directly, with the arguments Nest would pick', async () => {
    const ctx = { subject: 'plain' };
    for (const p of ['plain', 'no-params', 'payload-field', 'async', 'observable', 'throws', 'rejects', 'own-filter']) {
      expect([p, isLeanRpcHandler(server.handler(p))]).toEqual([p, true]);
    }
    // Synchronous: no promise between the transport and the handler's value.
    expect(server.handler('plain')('data', ctx)).toEqual({ payload: 'data', ctx });
    // Nest's default parameter metadata hands an undecorated handler the payload alone.
    expect(server.handler('no-params')('data', ctx)).toEqual({ args: ['data'] });
    expect(server.handler('payload-field')({ name: 'n', other: 1 }, ctx)).toEqual({ name: 'n' });
    await expect(outcome(server.handler('async')('x', ctx))).resolves.toEqual({ later: 'x' });
  });

  it('hands every error to the exception filters, global and the handler’s own', async () => {
    const ctx = {};
    await expect(outcome(server.handler('throws')(undefined, ctx))).resolves.toEqual({ error: { code: ErrorCode.APP_BUSY, message: 'busy', details: {} } });
    await expect(outcome(server.handler('rejects')(undefined, ctx))).resolves.toEqual({
      error: { code: ErrorCode.INTERNAL, message: 'Internal error in the remote service' },
    });
    await expect(outcome(server.handler('observable')('tool', ctx))).resolves.toEqual({
      error: { code: ErrorCode.TOOL_FILE_NOT_FOUND, message: 'no tool', details: {} },
    });
    await expect(outcome(server.handler('own-filter')(undefined, ctx))).resolves.toEqual({ error: { code: ErrorCode.FORBIDDEN, message: 'own filter: boom' } });
    expect(seen).toEqual(['own filter']);
  });

  it('keeps Nest’s handler for guards, interceptors, pipes, custom parameters and request scope, and they run', async () => {
    for (const p of ['guarded', 'intercepted', 'piped', 'param-pipe', 'custom-param', 'request-scoped']) {
      expect([p, isLeanRpcHandler(server.handler(p))]).toEqual([p, false]);
    }
    // Nest's RpcException('Forbidden resource'), which the platform's filter answers as INTERNAL.
    await expect(outcome(server.handler('guarded')({ allow: false }, {}))).resolves.toEqual({
      error: { code: ErrorCode.INTERNAL, message: 'Internal error in the remote service' },
    });
    await expect(outcome(server.handler('guarded')({ allow: true }, {}))).resolves.toEqual({ ok: true });
    expect(seen).toEqual(['guard false', 'guard true', 'guarded handler']);
    await expect(outcome(server.handler('intercepted')(undefined, {}))).resolves.toEqual({ value: { wrapped: 'inner' } });
    await expect(outcome(server.handler('piped')('abc', {}))).resolves.toBe('ABC');
    await expect(outcome(server.handler('param-pipe')('def', {}))).resolves.toBe('DEF');
    await expect(outcome(server.handler('custom-param')('t1', {}))).resolves.toBe('tenant of t1');
    await expect(outcome(server.handler('request-scoped')('r', {}))).resolves.toEqual({ scoped: 'r' });
  });

  it('keeps Nest’s handler for every handler when a global guard, interceptor or pipe is set', async () => {
    for (const configure of [
      (m: INestMicroservice) => m.useGlobalGuards(new DenyGuard()),
      (m: INestMicroservice) => m.useGlobalInterceptors(new WrapInterceptor()),
      (m: INestMicroservice) => m.useGlobalPipes(new UpperPipe()),
    ]) {
      const other = await start(configure);
      try {
        expect(isLeanRpcHandler(other.server.handler('plain'))).toBe(false);
        expect(isLeanRpcHandler(other.server.handler('throws'))).toBe(false);
      } finally {
        await other.ms.close();
      }
    }
    seen.length = 0;
    const guarded = await start((m) => m.useGlobalGuards(new DenyGuard()));
    try {
      await expect(outcome(guarded.server.handler('plain')({ allow: false }, {}))).resolves.toEqual({
        error: { code: ErrorCode.INTERNAL, message: 'Internal error in the remote service' },
      });
      expect(seen).toEqual(['guard false']);
    } finally {
      await guarded.ms.close();
    }
  });

  it('refuses a microservice whose internals it does not know, at start', () => {
    expect(() => useLeanRpcHandlers({} as INestMicroservice)).toThrow(/not the one it was written for/);
  });
});

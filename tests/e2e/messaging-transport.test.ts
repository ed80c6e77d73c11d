import { tmpdir } from 'node:os';
import { Controller, Inject, Injectable, Module, UseGuards, UseInterceptors, type CallHandler, type CanActivate, type NestInterceptor } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient, RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { createServiceMetrics, getTracer, requestContext } from '@overskill/observability';
import { bootstrapService, type RunningService } from '@overskill/runtime';
import { context, trace } from '@opentelemetry/api';
import type { NatsConnection } from 'nats';
import { map, type Observable } from 'rxjs';
import { integrationStack } from '../support/integration-env';
import { stackNatsCredentials } from '@overskill/testing';

const INSTANCE = 'INSTANCE';
const handledBy: Record<string, number> = {};

// A guard and an interceptor: handlers that have them keep Nest's chain, and both run for a request over NATS.
@Injectable()
class TenantGuard implements CanActivate {
  canActivate(): boolean {
    if (requestContext.get()?.tenantId !== 'tenant-allowed') throw new AppError(ErrorCode.FORBIDDEN, 'Only tenant-allowed may ask');
    return true;
  }
}

@Injectable()
class BranchInterceptor implements NestInterceptor {
  intercept(_ctx: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((reply: RpcReply<typeof Rpc.gitRepoStatus>) => ({ ...reply, branch: `intercepted ${reply.branch}` })));
  }
}

// A stand-in git-service whose handlers misbehave on purpose; the real transport and
// bootstrap carry them.
@Controller()
class ProbeController {
  constructor(@Inject(INSTANCE) private readonly instance: string) {}

  @RpcHandler(Rpc.gitRepoLog)
  async log(@Payload() req: RpcRequest<typeof Rpc.gitRepoLog>): Promise<RpcReply<typeof Rpc.gitRepoLog>> {
    handledBy[this.instance] = (handledBy[this.instance] ?? 0) + 1;
    if (req.appId === 'app-error') throw new AppError(ErrorCode.GIT_REPO_NOT_FOUND, 'App app-error has no repository');
    if (req.appId === 'crash') throw new Error('db password=hunter2 leaked in a message');
    if (req.appId === 'slow') await new Promise((r) => setTimeout(r, 1500));
    const ctx = requestContext.get();
    const span = trace.getActiveSpan()?.spanContext();
    return {
      commits: [{ sha: this.instance, message: JSON.stringify({ correlationId: ctx?.correlationId, tenantId: ctx?.tenantId, traceId: span?.traceId }) }],
    };
  }

  @UseGuards(TenantGuard)
  @UseInterceptors(BranchInterceptor)
  @RpcHandler(Rpc.gitRepoStatus)
  status(@Payload() req: RpcRequest<typeof Rpc.gitRepoStatus>): RpcReply<typeof Rpc.gitRepoStatus> {
    return { branch: req.appId, clean: true };
  }
}

function probeModule(instance: string) {
  @Module({ controllers: [ProbeController], providers: [{ provide: INSTANCE, useValue: instance }, TenantGuard, BranchInterceptor] })
  class ProbeModule {}
  return ProbeModule;
}

describe('messaging transport over a real nats-server', () => {
  const stack = integrationStack();
  const { natsUrl } = stack;
  const services: RunningService[] = [];
  let nc: NatsConnection;
  let client: NatsRpcClient;

  beforeAll(async () => {
    const env = {
      PORT: 0,
      HOST: '127.0.0.1',
      NATS_URL: natsUrl,
      NATS_NKEY_SEED: stack.natsSeeds['git-service'],
      LOG_LEVEL: 'silent' as const,
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      SHUTDOWN_DEADLINE_MS: 25_000,
      DIAGNOSTICS_DIR: tmpdir(),
    };
    for (const instance of ['a', 'b']) services.push(await bootstrapService({ service: 'git-service', env, imports: [probeModule(instance)] }));
    nc = await connectNats(natsUrl, 'transport-test', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('transport-test'), 1000);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    for (const s of services) await s.close();
  });

  it('returns the typed reply', async () => {
    const reply = await client.send(Rpc.gitRepoLog, { appId: 'ok' });
    expect(reply.commits).toHaveLength(1);
  });

  it('carries a handler’s AppError code and message to the caller', async () => {
    await expect(client.send(Rpc.gitRepoLog, { appId: 'app-error' })).rejects.toMatchObject({
      code: ErrorCode.GIT_REPO_NOT_FOUND,
      message: 'App app-error has no repository',
    });
  });

  it('answers an unexpected handler error as INTERNAL without its message, and keeps serving', async () => {
    const err = await client.send(Rpc.gitRepoLog, { appId: 'crash' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.INTERNAL });
    expect(String((err as Error).message)).not.toContain('hunter2');
    await expect(client.send(Rpc.gitRepoLog, { appId: 'ok' })).resolves.toBeDefined();
  });

  it('runs a handler’s guard and interceptor for a request over NATS', async () => {
    const as = (tenantId: string) => requestContext.run({ correlationId: 'corr-guard', tenantId }, () => client.send(Rpc.gitRepoStatus, { appId: 'main' }));
    await expect(as('tenant-other')).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN, message: 'Only tenant-allowed may ask' });
    await expect(as('tenant-allowed')).resolves.toMatchObject({ branch: 'intercepted main', clean: true });
  });

  it('tells a timeout from nobody listening', async () => {
    await expect(client.send(Rpc.gitRepoLog, { appId: 'slow' }, { timeoutMs: 300 })).rejects.toMatchObject({ code: ErrorCode.RPC_TIMEOUT });
    await expect(client.send(Rpc.backupCatalogList, { limit: 1 })).rejects.toMatchObject({ code: ErrorCode.RPC_NO_RESPONDERS });
  });

  it('carries trace context, correlation id and tenant id to the handler', async () => {
    const span = getTracer().startSpan('test-root');
    const reply = await context.with(trace.setSpan(context.active(), span), () =>
      requestContext.run({ correlationId: 'corr-123', tenantId: 'tenant-9' }, () => client.send(Rpc.gitRepoLog, { appId: 'ok' })),
    );
    span.end();
    expect(JSON.parse(reply.commits[0]!.message)).toEqual({ correlationId: 'corr-123', tenantId: 'tenant-9', traceId: span.spanContext().traceId });
  });

  it('shares load between replicas through the queue group', async () => {
    for (const key of Object.keys(handledBy)) delete handledBy[key];
    const repliedBy = new Set<string>();
    for (let i = 0; i < 40; i++) repliedBy.add((await client.send(Rpc.gitRepoLog, { appId: 'ok' })).commits[0]!.sha);
    expect(repliedBy).toEqual(new Set(['a', 'b']));
    expect((handledBy.a ?? 0) + (handledBy.b ?? 0)).toBe(40); // each request handled exactly once
  });

  it('a replica that closes finishes the requests it is handling, and the other takes the new ones', async () => {
    for (const key of Object.keys(handledBy)) delete handledBy[key];
    const slow: Array<Promise<unknown>> = [];
    // Slow requests until replica a is working on one.
    for (let i = 0; i < 100 && !handledBy.a; i++) {
      slow.push(client.send(Rpc.gitRepoLog, { appId: 'slow' }, { timeoutMs: 10_000 }));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(handledBy.a).toBeGreaterThan(0);
    const closing = services[0]!.close();
    await new Promise((r) => setTimeout(r, 200));
    const during = await Promise.all(Array.from({ length: 10 }, () => client.send(Rpc.gitRepoLog, { appId: 'ok' })));
    expect(during.map((reply) => reply.commits[0]!.sha)).toEqual(new Array(10).fill('b'));
    const answered = await Promise.allSettled(slow);
    expect(answered.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    await closing;
  });
});

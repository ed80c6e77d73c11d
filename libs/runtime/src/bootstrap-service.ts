import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceName } from '@overskill/contracts';
import { MessagingModule, natsCredentialsFromEnv, NatsRpcServer, useLeanRpcHandlers } from '@overskill/messaging';
import {
  ConfigError,
  createLogger,
  createServiceMetrics,
  instrumentFastify,
  ObservabilityModule,
  PinoNestLogger,
  startTracing,
} from '@overskill/observability';
import type { FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { compileCacheReport, flushCompileCache } from './compile-cache/compile-cache';
import { DependencyAwareRpcErrorFilter } from './dependency-aware-rpc-error.filter';
import { writeHeapSnapshotOnSignal } from './heap-snapshot';
import type { ServiceEnv } from './service-env';

export interface ServiceDefinition {
  service: ServiceName;
  env: ServiceEnv;
  // The service's feature modules (already configured with its env).
  imports: Array<Type<unknown> | DynamicModule>;
  jetstream?: boolean;
  bodyLimitBytes?: number;
  // Keep each JSON body's bytes as request.rawBody (the gateway verifies webhook signatures on them).
  rawBody?: boolean;
  // Extra Fastify server options (the gateway's trustProxy, timeouts).
  fastifyOptions?: Omit<FastifyServerOptions, 'logger' | 'bodyLimit'>;
  // Last touches before listening (the gateway's HTTP error mapper, its plugins and hooks).
  configure?(app: NestFastifyApplication, logger: Logger): void | Promise<void>;
}

export interface RunningService {
  service: ServiceName;
  app: INestApplication;
  logger: Logger;
  url: string;
  bootMs: number;
  shutdownDeadlineMs: number;
  diagnosticsDir: string;
  close(): Promise<void>;
}

// The one way a service starts: tracing first, then one Nest app that serves HTTP (health,
// metrics, and the gateway's API) and answers its NATS subjects in the service's queue group.
export async function bootstrapService(def: ServiceDefinition): Promise<RunningService> {
  const started = performance.now();
  const tracing = startTracing({ service: def.service, endpoint: def.env.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger({ service: def.service, level: def.env.LOG_LEVEL });
  const metrics = createServiceMetrics(def.service);
  // The service's own identity on the bus (deploy/nats has its permissions).
  const credentials = natsCredentialsFromEnv(def.service, def.env);

  @Module({
    imports: [
      ObservabilityModule.forRoot({ service: def.service, logger, metrics }),
      MessagingModule.forRoot({ service: def.service, natsUrl: def.env.NATS_URL, credentials, jetstream: def.jetstream }),
      ...def.imports,
    ],
  })
  class ServiceRootModule {}

  const adapter = new FastifyAdapter({ ...def.fastifyOptions, bodyLimit: def.bodyLimitBytes ?? 1024 * 1024, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(ServiceRootModule, adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
    rawBody: def.rawBody,
  });
  instrumentFastify(app.getHttpAdapter().getInstance(), { service: def.service, metrics, logger });

  // Deferred: Nest binds handlers at connect time otherwise, before the filter below exists.
  const microservice = app.connectMicroservice<MicroserviceOptions>(
    { strategy: new NatsRpcServer({ service: def.service, natsUrl: def.env.NATS_URL, credentials, metrics, logger }) },
    { deferInitialization: true },
  );
  microservice.useGlobalFilters(new DependencyAwareRpcErrorFilter(logger));
  // Handlers without guards, interceptors or pipes skip Nest's empty async chain; filters still answer.
  useLeanRpcHandlers(microservice);
  // What connectMicroservice does when not deferred; the app's own init runs the lifecycle hooks once.
  const deferred = microservice as unknown as { registerListeners(): void; setIsInitialized(v: boolean): void; setIsInitHookCalled(v: boolean): void };
  deferred.registerListeners();
  deferred.setIsInitialized(true);
  deferred.setIsInitHookCalled(true);
  await def.configure?.(app, logger);
  // No app.enableShutdownHooks(): runService owns the signals, so shutdown happens once, in one
  // order (consumers drain, RPC handlers finish, connections close, spans flush), then exit 0.

  // Lifecycle hooks (the database connection among them) before the NATS handlers subscribe:
  // a replica restarted under traffic must not answer requests it cannot serve yet.
  await app.init();
  await app.startAllMicroservices();
  await app.listen(def.env.PORT, def.env.HOST);
  const url = await app.getUrl();
  const bootMs = Math.round(performance.now() - started);
  // How many modules came from the compile cache tells a slow start from a cold one.
  logger.info({ url, bootMs, processUptimeMs: Math.round(process.uptime() * 1000), compileCache: compileCacheReport() }, `${def.service} ready`);

  let closing: Promise<void> | undefined;
  return {
    service: def.service,
    app,
    logger,
    url,
    bootMs,
    shutdownDeadlineMs: def.env.SHUTDOWN_DEADLINE_MS,
    diagnosticsDir: def.env.DIAGNOSTICS_DIR,
    close() {
      closing ??= (async () => {
        await app.close();
        await tracing.shutdown();
      })();
      return closing;
    },
  };
}

// main.ts of every service: a bad config is one clear line and exit 1, never a stack trace.
// SIGTERM or SIGINT drains and exits 0; a second signal while draining exits 1 at once.
export function runService(start: () => Promise<RunningService>): void {
  // An image build's warm-up (OVERSKILL_COMPILE_CACHE_WARM=1): every module of the service is
  // loaded by now, so write their compile cache and stop before booting.
  if (process.env.OVERSKILL_COMPILE_CACHE_WARM === '1') {
    flushCompileCache();
    process.exit(0);
  }
  process.on('unhandledRejection', (reason) => {
    // A stray rejection is a bug to log, not a reason to drop every in-flight request.
    process.stderr.write(
      `${JSON.stringify({ timestamp: new Date().toISOString(), level: 'ERROR', component: 'process', message: 'unhandled rejection', err: String((reason as Error)?.stack ?? reason) })}\n`,
    );
  });
  // start() may throw before it returns a promise (a bad config): catch that too.
  Promise.resolve()
    .then(start)
    .then((running) => {
      writeHeapSnapshotOnSignal({ service: running.service, dir: running.diagnosticsDir, logger: running.logger });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          running.logger.warn({ signal }, 'second signal while draining: exiting now');
          process.exit(1);
        }
        stopping = true;
        running.logger.info({ signal }, 'shutting down');
        const deadline = setTimeout(() => {
          running.logger.error({ deadlineMs: running.shutdownDeadlineMs }, 'shutdown did not finish in time: exiting');
          process.exit(1);
        }, running.shutdownDeadlineMs);
        deadline.unref();
        running.close().then(
          () => {
            running.logger.info({ signal }, 'shut down cleanly');
            process.exit(0);
          },
          (err: unknown) => {
            running.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    })
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
      } else {
        process.stderr.write(`failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
      }
      process.exit(1);
    });
}

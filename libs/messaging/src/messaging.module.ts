import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { commonV1, sqlLoggingSubject, type ServiceName } from '@overskill/contracts';
import { HealthRegistry, LOGGER, SERVICE_METRICS, serviceInstanceId, sqlLogging, type ServiceMetrics } from '@overskill/observability';
import type { Logger } from 'pino';
import type { Msg, NatsConnection } from 'nats';
import { createHealthPingController } from './health/health-ping.controller';
import { jetStreamHealthIndicator, natsHealthIndicator } from './health/nats-health.indicators';
import { ensureStreams } from './jetstream/jetstream';
import { connectNats, type NatsCredentials } from './nats-connection';
import { NatsRpcClient } from './rpc/nats-rpc.client';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export interface MessagingModuleOptions {
  service: ServiceName;
  natsUrl: string;
  credentials: NatsCredentials;
  // Services that publish or consume durable work also report JetStream in readiness.
  jetstream?: boolean;
}

@Injectable()
class MessagingLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
    private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register(natsHealthIndicator(this.nc));
    sqlLogging.attach(this.logger);
    this.nc.subscribe(sqlLoggingSubject(this.options.service), { callback: (err, msg) => void (err ? undefined : this.switchSqlLogging(msg)) });
    if (this.options.jetstream) {
      await ensureStreams(this.nc);
      this.health.register(jetStreamHealthIndicator(this.nc));
    }
  }

  // Every replica answers for itself, so the operator sees which ones switched.
  private switchSqlLogging(msg: Msg): void {
    let request: commonV1.SqlLoggingSetRequest;
    try {
      request = fromBinary(commonV1.SqlLoggingSetRequestSchema, msg.data);
    } catch {
      this.logger.warn({ subject: msg.subject }, 'ignored a malformed SQL logging switch');
      return;
    }
    const until = sqlLogging.set(request.enabled, request.seconds);
    this.logger.info({ enabled: until !== null, until: until?.toISOString() }, until ? 'SQL logging on' : 'SQL logging off');
    if (!msg.reply) return;
    const reply = create(commonV1.SqlLoggingSetResponseSchema, {
      service: this.options.service,
      instanceId: serviceInstanceId,
      enabled: until !== null,
      until: until?.toISOString() ?? '',
    });
    msg.respond(toBinary(commonV1.SqlLoggingSetResponseSchema, reply));
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }
}

@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      controllers: [createHealthPingController(options.service)],
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        { provide: NATS_CONNECTION, useFactory: () => connectNats(options.natsUrl, options.service, options.credentials) },
        {
          provide: NatsRpcClient,
          inject: [NATS_CONNECTION, SERVICE_METRICS],
          useFactory: (nc: NatsConnection, metrics: ServiceMetrics) => new NatsRpcClient(nc, metrics),
        },
        MessagingLifecycle,
      ],
      exports: [NATS_CONNECTION, NatsRpcClient],
    };
  }
}

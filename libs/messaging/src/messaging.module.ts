import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ServiceName } from '@overskill/contracts';
import { HealthRegistry, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import type { NatsConnection } from 'nats';
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
  ) {}

  async onModuleInit(): Promise<void> {
    this.health.register(natsHealthIndicator(this.nc));
    if (this.options.jetstream) {
      await ensureStreams(this.nc);
      this.health.register(jetStreamHealthIndicator(this.nc));
    }
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

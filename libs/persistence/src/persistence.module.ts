import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry, type HealthIndicator } from '@overskill/observability';
import Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type * as TypeOrm from 'typeorm';
import { AppWriteLock } from './app-write-lock';
import { REDIS } from './redis.token';

export { REDIS };

// No offline queue: while Redis is down a command fails at once instead of piling up. A command
// timeout: a paused or wedged Redis keeps its socket open and never answers, and no request may
// wait on it past its deadline (the error maps to DEPENDENCY_UNAVAILABLE).
export const REDIS_CLIENT_OPTIONS = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  connectTimeout: 2000,
  commandTimeout: 2000,
  retryStrategy: (n: number) => Math.min(n * 200, 2000),
} as const;

export function postgresHealthIndicator(dataSource: DataSource): HealthIndicator {
  return {
    name: 'postgres',
    async check() {
      if (!dataSource.isInitialized) await dataSource.initialize();
      await dataSource.query('SELECT 1');
    },
  };
}

export function redisHealthIndicator(redis: Redis): HealthIndicator {
  return {
    name: 'redis',
    async check() {
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
    },
  };
}

// Built by a factory, not by Nest's reflection: a DataSource parameter type would make this file
// load TypeORM in every service, the three without a database included (~250 ms of start-up).
class PostgresLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly connecting: Promise<unknown>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthRegistry,
  ) {
    // Connecting starts while Nest creates the other providers (the NATS connection among them),
    // not after them: the two handshakes overlap. Start even while Postgres is down: readiness
    // says so, and the pool connects later.
    this.connecting = dataSource.initialize().catch(() => undefined);
  }

  async onModuleInit(): Promise<void> {
    this.health.register(postgresHealthIndicator(this.dataSource));
    await this.connecting;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connecting;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly health: HealthRegistry,
  ) {}

  onModuleInit(): void {
    this.health.register(redisHealthIndicator(this.redis));
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}

@Global()
@Module({})
export class PostgresModule {
  // The service passes its data source (the same one its migrate.js uses).
  static forRoot(dataSource: DataSource): DynamicModule {
    // The token is TypeORM's class, which the services inject; only services with a database get here.
    const { DataSource: token } = require('typeorm') as typeof TypeOrm;
    return {
      module: PostgresModule,
      global: true,
      providers: [
        { provide: token, useValue: dataSource },
        { provide: PostgresLifecycle, useFactory: (health: HealthRegistry) => new PostgresLifecycle(dataSource, health), inject: [HealthRegistry] },
      ],
      exports: [token],
    };
  }
}

@Global()
@Module({})
export class RedisModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS,
          useFactory: () => new Redis(url, REDIS_CLIENT_OPTIONS),
        },
        RedisLifecycle,
        AppWriteLock,
      ],
      exports: [REDIS, AppWriteLock],
    };
  }
}

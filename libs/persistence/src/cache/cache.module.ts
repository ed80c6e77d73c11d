import { Global, Module, type DynamicModule } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import type Redis from 'ioredis';
import { REDIS } from '../redis.token';
import type { CacheConfig } from './cache-config';
import { LeveledCache } from './leveled-cache';

// The leveled cache on the service's Redis (RedisModule must be imported too).
@Global()
@Module({})
export class CacheModule {
  static forRoot(config: CacheConfig): DynamicModule {
    return {
      module: CacheModule,
      global: true,
      providers: [
        {
          provide: LeveledCache,
          inject: [REDIS, SERVICE_METRICS],
          useFactory: (redis: Redis, metrics: ServiceMetrics) => new LeveledCache(redis, config, metrics.registry),
        },
      ],
      exports: [LeveledCache],
    };
  }
}

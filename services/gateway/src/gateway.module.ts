import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RedisModule } from '@overskill/persistence';
import { AppsHttpController } from './api/apps.http-controller';
import { PlatformApiService } from './api/platform-api.service';
import { GATEWAY_ENV, type GatewayEnv } from './config';
import { PlatformHealthController } from './health/platform-health.controller';
import { PlatformHealthService } from './health/platform-health.service';
import { ApiKeyGuard } from './keys/api-key.guard';
import { ApiKeysController } from './keys/api-keys.controller';
import { ApiKeysRepository } from './keys/api-keys.repository';
import { ApiKeysService } from './keys/api-keys.service';
import { createGatewayDataSource } from './persistence/data-source';
import { LlmModule } from './llm/llm.module';

@Module({})
export class GatewayModule {
  static forRoot(env: GatewayEnv): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PostgresModule.forRoot(createGatewayDataSource(env.DATABASE_URL)), RedisModule.forRoot(env.REDIS_URL), LlmModule],
      controllers: [ApiKeysController, AppsHttpController, PlatformHealthController],
      providers: [{ provide: GATEWAY_ENV, useValue: env }, ApiKeysRepository, ApiKeysService, ApiKeyGuard, PlatformApiService, PlatformHealthService],
    };
  }
}

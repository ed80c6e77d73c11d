import { Module, type DynamicModule } from '@nestjs/common';
import { RedisModule } from '@overskill/persistence';
import { UsageEventsRepository } from '../accounting/usage-events.repository';
import { RouterAdminController } from '../admin/router-admin.controller';
import { RouterAdminService } from '../admin/router-admin.service';
import { ModelTestController } from '../model-test/model-test.controller';
import { ModelTestService } from '../model-test/model-test.service';
import { ResponseCacheRepository } from '../cache/response-cache.repository';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { UsageLedgerRepository } from '../limits/usage-ledger.repository';
import { ActiveAliasRepository } from '../models/active-alias.repository';
import { AiModelsConfigService } from '../models/ai-models-config.service';
import { ChatProvidersRegistry } from '../providers/chat-providers.registry';
import { ModelRouterService } from '../routing/model-router.service';
import { StreamChunkPublisher } from '../streaming/stream-chunk.publisher';
import { CompletionController } from './completion.controller';
import { CompletionService } from './completion.service';

@Module({})
export class CompletionModule {
  static forRoot(env: AiRouterEnv): DynamicModule {
    return {
      module: CompletionModule,
      // The model config and the usage events serve the image feature too.
      global: true,
      imports: [RedisModule.forRoot(env.REDIS_URL)],
      controllers: [CompletionController, RouterAdminController, ModelTestController],
      providers: [
        { provide: AI_ROUTER_ENV, useValue: env },
        ActiveAliasRepository,
        AiModelsConfigService,
        ChatProvidersRegistry,
        ModelRouterService,
        UsageLedgerRepository,
        ResponseCacheRepository,
        UsageEventsRepository,
        StreamChunkPublisher,
        CompletionService,
        RouterAdminService,
        ModelTestService,
      ],
      exports: [AiModelsConfigService, UsageEventsRepository, UsageLedgerRepository],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { AnthropicProviderRepository } from './anthropic-provider.repository';
import { CompletionController } from './completion.controller';
import { CompletionService } from './completion.service';

@Module({})
export class CompletionModule {
  static forRoot(env: AiRouterEnv): DynamicModule {
    return {
      module: CompletionModule,
      controllers: [CompletionController],
      providers: [{ provide: AI_ROUTER_ENV, useValue: env }, AnthropicProviderRepository, CompletionService],
    };
  }
}

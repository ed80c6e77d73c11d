import { Module, type DynamicModule } from '@nestjs/common';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { ImagesController } from './images.controller';
import { ImagesService } from './images.service';
import { OpenAiImagesProviderRepository } from './openai-images-provider.repository';

@Module({})
export class ImagesModule {
  static forRoot(env: AiRouterEnv): DynamicModule {
    return {
      module: ImagesModule,
      controllers: [ImagesController],
      providers: [{ provide: AI_ROUTER_ENV, useValue: env }, OpenAiImagesProviderRepository, ImagesService],
    };
  }
}

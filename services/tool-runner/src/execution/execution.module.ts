import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule, RedisModule } from '@overskill/persistence';
import type { ToolDependencies } from '../catalog/tool-definition';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { AnalyticsRepository } from '../delegation/analytics.repository';
import { GitServiceRepository } from '../delegation/git-service.repository';
import { ImageGenerationRepository } from '../delegation/image-generation.repository';
import { RunEventsRepository } from '../delegation/run-events.repository';
import { NpmRegistryRepository } from '../dependencies/npm-registry.repository';
import { GuardedHttpClient, HOST_RESOLVER, systemResolver } from '../network/guarded-http.client';
import { WebSearchRepository } from '../network/web-search.repository';
import { WorkspaceSearchRepository } from '../search/workspace-search.repository';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import { TOOL_DEPENDENCIES } from './tool-dependencies';
import { ToolController } from './tool.controller';
import { ToolExecutionService } from './tool-execution.service';

const REPOSITORIES = [
  WorkspaceFilesRepository,
  WorkspaceSearchRepository,
  GuardedHttpClient,
  WebSearchRepository,
  NpmRegistryRepository,
  GitServiceRepository,
  AnalyticsRepository,
  ImageGenerationRepository,
  RunEventsRepository,
];

@Module({})
export class ExecutionModule {
  static forRoot(env: ToolRunnerEnv): DynamicModule {
    return {
      module: ExecutionModule,
      imports: [RedisModule.forRoot(env.REDIS_URL), CacheModule.forRoot(env.CACHE_CONFIG_FILE)],
      controllers: [ToolController],
      providers: [
        { provide: TOOL_RUNNER_ENV, useValue: env },
        { provide: HOST_RESOLVER, useValue: systemResolver },
        ...REPOSITORIES,
        {
          provide: TOOL_DEPENDENCIES,
          inject: [
            WorkspaceSearchRepository,
            GuardedHttpClient,
            WebSearchRepository,
            NpmRegistryRepository,
            GitServiceRepository,
            AnalyticsRepository,
            ImageGenerationRepository,
            RunEventsRepository,
          ],
          useFactory: (
            search: WorkspaceSearchRepository,
            http: GuardedHttpClient,
            webSearch: WebSearchRepository,
            npm: NpmRegistryRepository,
            git: GitServiceRepository,
            analytics: AnalyticsRepository,
            images: ImageGenerationRepository,
            runEvents: RunEventsRepository,
          ): ToolDependencies => ({ search, http, webSearch, npm, git, analytics, images, runEvents }),
        },
        ToolExecutionService,
      ],
    };
  }
}

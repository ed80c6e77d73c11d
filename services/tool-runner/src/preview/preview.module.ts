import { Module, type DynamicModule } from '@nestjs/common';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { GitServiceRepository } from '../delegation/git-service.repository';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import { CaptureIngestService } from './capture-ingest.service';
import { DependencyStoreRepository } from './dev-server/dependency-store.repository';
import { DevPreviewRouter } from './dev-server/dev-preview.router';
import { DevServerService } from './dev-server/dev-server.service';
import { DEV_SETTINGS } from './dev-server/dev-settings';
import { DevStateRepository } from './dev-server/dev-state.repository';
import { PreviewKeepAliveService } from './dev-server/preview-keep-alive.service';
import { SandboxProcessRepository } from './dev-server/sandbox-process.repository';
import { HeadlessBrowserRepository } from './headless-browser.repository';
import { PreviewCheckService } from './preview-check.service';
import { PreviewController } from './preview.controller';
import { PreviewEventsRepository } from './preview-events.repository';
import { PreviewFilesRepository } from './preview-files.repository';
import { PreviewHttpServer } from './preview-http.server';
import { PreviewService } from './preview.service';
import { devSettings, PREVIEW_SETTINGS, previewSettings } from './preview-settings';
import { PreviewStoreRepository } from './preview-store.repository';

// The app preview: its own origin and listener, dev servers in a sandbox, capture ingest, and
// the headless check. Redis comes from the execution module (global). The keep-alive is global
// the other way: the tool controller keeps a preview up through the same throttle as its views.
@Module({})
export class PreviewModule {
  static forRoot(env: ToolRunnerEnv): DynamicModule {
    return {
      global: true,
      module: PreviewModule,
      exports: [PreviewKeepAliveService],
      controllers: [PreviewController],
      providers: [
        { provide: TOOL_RUNNER_ENV, useValue: env },
        { provide: PREVIEW_SETTINGS, useValue: previewSettings(env) },
        { provide: DEV_SETTINGS, useValue: devSettings(env) },
        WorkspaceFilesRepository,
        GitServiceRepository,
        PreviewStoreRepository,
        PreviewFilesRepository,
        PreviewEventsRepository,
        HeadlessBrowserRepository,
        DevStateRepository,
        PreviewKeepAliveService,
        SandboxProcessRepository,
        DependencyStoreRepository,
        DevServerService,
        DevPreviewRouter,
        PreviewService,
        CaptureIngestService,
        PreviewCheckService,
        PreviewHttpServer,
      ],
    };
  }
}

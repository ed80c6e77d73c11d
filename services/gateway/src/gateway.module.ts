import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RedisModule } from '@overskill/persistence';
import { AppsHttpController } from './api/apps.http-controller';
import { AppListCache } from './api/app-list-cache';
import { AppListGenerationsRepository } from './api/app-list-generations.repository';
import { PlatformApiService } from './api/platform-api.service';
import { AppsRepository } from './api/apps.repository';
import { ProjectsRepository } from './api/projects.repository';
import { RunEventsRepository } from './api/run-events.repository';
import { WorkspaceRepository } from './api/workspace.repository';
import { RunEventsService } from './api/run-events.service';
import { ProjectsApiService } from './api/projects-api.service';
import { ProjectsHttpController } from './api/projects.http-controller';
import { RunsHttpController } from './api/runs.http-controller';
import { TasksHttpController } from './api/tasks.http-controller';
import { WorkspaceApiService } from './api/workspace-api.service';
import { WorkspaceHttpController } from './api/workspace.http-controller';
import { AuditHttpController } from './audit/audit.http-controller';
import { AuditEventsRepository } from './audit/audit-events.repository';
import { AuditRepository } from './audit/audit.repository';
import { AuditService } from './audit/audit.service';
import { GATEWAY_ENV, type GatewayEnv } from './config';
import { AdminHttpController } from './health/admin.http-controller';
import { PlatformHealthController } from './health/platform-health.controller';
import { PlatformHealthService } from './health/platform-health.service';
import { GitHubWebhookHttpController } from './github/github-webhook.http-controller';
import { GitHubDeliveriesRepository } from './github/github-deliveries.repository';
import { GitHubWebhookService } from './github/github-webhook.service';
import { DrainController } from './http/drain';
import { RateCountsRepository } from './http/rate-counts.repository';
import { RateLimiter } from './http/rate-limiter';
import { ApiKeyGuard } from './auth/api-key.guard';
import { RequestCredentials } from './auth/request-credentials';
import { ApiKeysController } from './keys/api-keys.controller';
import { ApiKeysHttpController } from './keys/api-keys.http-controller';
import { ApiKeysRepository } from './keys/api-keys.repository';
import { ApiKeysService } from './keys/api-keys.service';
import { KeyCache } from './keys/key-cache';
import { SessionHttpController } from './session/session.http-controller';
import { SessionRepository } from './session/session.repository';
import { KeyOrSessionCredentials } from './session/key-or-session-credentials';
import { SessionService } from './session/session.service';
import { createGatewayDataSource } from './persistence/data-source';
import { AiAdminHttpController } from './llm/ai-admin.http-controller';
import { HealthPingsRepository } from './health/health-pings.repository';
import { ToolStatsRepository } from './health/tool-stats.repository';
import { ToolStatsService } from './health/tool-stats.service';
import { AiAdminService } from './llm/ai-admin.service';
import { AiRouterRepository } from './llm/ai-router.repository';
import { AiUsageRepository } from './llm/ai-usage.repository';
import { BackupAdminHttpController } from './backups/backup-admin.http-controller';
import { BackupAdminService } from './backups/backup-admin.service';
import { BackupsRepository } from './backups/backups.repository';
import { AiUsageService } from './llm/ai-usage.service';
import { LlmGatewayService } from './llm/llm-gateway.service';
import { MessagesHttpController } from './llm/messages.http-controller';
import { PreviewApiService } from './preview/preview-api.service';
import { PreviewRepository } from './preview/preview.repository';
import { PreviewHttpController } from './preview/preview.http-controller';
import { ReportsApiService } from './reports/reports-api.service';
import { ReportsRepository } from './reports/reports.repository';
import { ReportsHttpController } from './reports/reports.http-controller';

@Module({})
export class GatewayModule {
  static forRoot(env: GatewayEnv): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PostgresModule.forRoot(createGatewayDataSource(env.DATABASE_URL)), RedisModule.forRoot(env.REDIS_URL)],
      controllers: [
        ApiKeysController,
        AppsHttpController,
        RunsHttpController,
        ProjectsHttpController,
        TasksHttpController,
        GitHubWebhookHttpController,
        WorkspaceHttpController,
        PreviewHttpController,
        ApiKeysHttpController,
        AuditHttpController,
        AdminHttpController,
        MessagesHttpController,
        AiAdminHttpController,
        SessionHttpController,
        BackupAdminHttpController,
        PlatformHealthController,
        ReportsHttpController,
      ],
      providers: [
        { provide: GATEWAY_ENV, useValue: env },
        ApiKeysRepository,
        KeyCache,
        ApiKeysService,
        SessionRepository,
        SessionService,
        { provide: RequestCredentials, useClass: KeyOrSessionCredentials },
        ApiKeyGuard,
        RateCountsRepository,
        RateLimiter,
        AuditRepository,
        AuditEventsRepository,
        AuditService,
        DrainController,
        AppListGenerationsRepository,
        AppListCache,
        AppsRepository,
        ProjectsRepository,
        WorkspaceRepository,
        PlatformApiService,
        ProjectsApiService,
        GitHubDeliveriesRepository,
        GitHubWebhookService,
        WorkspaceApiService,
        PreviewRepository,
        PreviewApiService,
        RunEventsRepository,
        RunEventsService,
        AiRouterRepository,
        AiUsageRepository,
        LlmGatewayService,
        AiAdminService,
        HealthPingsRepository,
        PlatformHealthService,
        ToolStatsRepository,
        ToolStatsService,
        BackupsRepository,
        BackupAdminService,
        AiUsageService,
        ReportsRepository,
        ReportsApiService,
      ],
      exports: [GATEWAY_ENV, KeyCache, RequestCredentials, ApiKeyGuard, ApiKeysService, SessionService, RateLimiter, AuditService, DrainController],
    };
  }
}

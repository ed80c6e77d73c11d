import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule, PostgresModule, RedisModule } from '@overskill/persistence';
import { AppsController } from './apps/apps.controller';
import { AppsRepository } from './apps/apps.repository';
import { AppsService } from './apps/apps.service';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from './config';
import { CacheAdminRepository } from './cache/cache-admin.repository';
import { CacheController } from './cache/cache.controller';
import { CacheService } from './cache/cache.service';
import { AiRouterRepository } from './delegation/ai-router.repository';
import { GitServiceRepository } from './delegation/git-service.repository';
import { ToolRunnerRepository } from './delegation/tool-runner.repository';
import { GitHubRepository } from './github/github.repository';
import { createOrchestratorDataSource } from './persistence/data-source';
import { PreviewAutofix } from './runs/preview-autofix';
import { PreviewCheckRepository } from './delegation/preview-check.repository';
import { ProjectsController } from './projects/projects.controller';
import { ProjectsRepository } from './projects/projects.repository';
import { ProjectsService } from './projects/projects.service';
import { GitHubDeliveriesService } from './tasks/github-deliveries.service';
import { IssuePollerService } from './tasks/issue-poller.service';
import { TaskMetrics } from './tasks/task-metrics';
import { TaskQueueRepository } from './tasks/task-queue.repository';
import { TaskWorkerService } from './tasks/task-worker.service';
import { GitHubQuotaRepository } from './github/github-quota.repository';
import { FollowUpsRepository } from './task-follow-ups/follow-ups.repository';
import { FollowUpsService } from './task-follow-ups/follow-ups.service';
import { TaskRetentionRepository } from './task-retention/task-retention.repository';
import { TaskRetentionService } from './task-retention/task-retention.service';
import { TaskLeasesRepository } from './task-work/task-leases.repository';
import { TaskRunnerService } from './task-work/task-runner.service';
import { TaskSchedulerService } from './task-work/task-scheduler.service';
import { TasksController } from './tasks/tasks.controller';
import { TasksRepository } from './tasks/tasks.repository';
import { TasksService } from './tasks/tasks.service';
import { AgentLoopService } from './runs/agent-loop.service';
import { AppFileTree } from './runs/app-file-tree';
import { KeptToolCatalogs } from './runs/kept-tool-catalogs';
import { RunContextLoader } from './runs/run-context-loader';
import { TeamSpendCache } from './runs/team-spend-cache';
import { RunQueueRepository } from './runs/run-queue.repository';
import { RunWorkerService } from './runs/run-worker.service';
import { RunsController } from './runs/runs.controller';
import { RunsRepository } from './runs/runs.repository';
import { RunsService } from './runs/runs.service';

@Module({})
export class OrchestratorModule {
  static forRoot(env: OrchestratorEnv): DynamicModule {
    return {
      module: OrchestratorModule,
      imports: [
        PostgresModule.forRoot(createOrchestratorDataSource(env.DATABASE_URL)),
        RedisModule.forRoot(env.REDIS_URL),
        CacheModule.forRoot(env.CACHE_CONFIG_FILE),
      ],
      controllers: [AppsController, RunsController, ProjectsController, TasksController, CacheController],
      providers: [
        { provide: ORCHESTRATOR_ENV, useValue: env },
        AppsRepository,
        AppsService,
        RunsRepository,
        RunQueueRepository,
        RunsService,
        PreviewCheckRepository,
        PreviewAutofix,
        AiRouterRepository,
        ToolRunnerRepository,
        GitServiceRepository,
        RunContextLoader,
        AppFileTree,
        KeptToolCatalogs,
        TeamSpendCache,
        GitHubRepository,
        ProjectsRepository,
        ProjectsService,
        TasksRepository,
        TaskQueueRepository,
        TaskMetrics,
        GitHubDeliveriesService,
        TasksService,
        TaskWorkerService,
        IssuePollerService,
        GitHubQuotaRepository,
        TaskRetentionRepository,
        TaskRetentionService,
        FollowUpsRepository,
        FollowUpsService,
        TaskLeasesRepository,
        TaskRunnerService,
        TaskSchedulerService,
        AgentLoopService,
        RunWorkerService,
        CacheAdminRepository,
        CacheService,
      ],
    };
  }
}

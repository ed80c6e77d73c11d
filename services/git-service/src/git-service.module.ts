import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule, RedisModule } from '@overskill/persistence';
import { BookmarksController } from './bookmarks/bookmarks.controller';
import { BookmarksService } from './bookmarks/bookmarks.service';
import { GitBookmarksRepository } from './bookmarks/git-bookmarks.repository';
import { BranchesController } from './branches/branches.controller';
import { BranchesService } from './branches/branches.service';
import { GitBranchesRepository } from './branches/git-branches.repository';
import { AppRegistryRepository } from './cleanup/app-registry.repository';
import { CleanupController } from './cleanup/cleanup.controller';
import { CleanupService } from './cleanup/cleanup.service';
import { GIT_SERVICE_ENV, type GitServiceEnv } from './config';
import { Clock } from './git/clock';
import { GitCli } from './git/git-cli';
import { GitLockFilesRepository } from './git/git-lock-files.repository';
import { GitMetrics } from './git/git-metrics';
import { GitOperationRunner } from './git/git-operation.runner';
import { WorkspaceVolumeRepository } from './git/workspace-volume.repository';
import { GitRemoteRepository } from './remotes/git-remote.repository';
import { RemotesController } from './remotes/remotes.controller';
import { RemotesService } from './remotes/remotes.service';
import { ProgressPublisherRepository } from './reset/progress-publisher.repository';
import { RepoHealthRepository } from './reset/repo-health.repository';
import { ResetController } from './reset/reset.controller';
import { ResetService } from './reset/reset.service';
import { GitRepositoryRepository } from './repository/git-repository.repository';
import { RepoController } from './repository/repo.controller';
import { RepoService } from './repository/repo.service';
import { RevisionResolver } from './repository/revision-resolver';

@Module({})
export class GitServiceModule {
  static forRoot(env: GitServiceEnv): DynamicModule {
    return {
      module: GitServiceModule,
      // Redis holds the per-app write lock shared with every other writer on the volume.
      imports: [RedisModule.forRoot(env.REDIS_URL), CacheModule.forRoot(env.CACHE_CONFIG_FILE)],
      controllers: [RepoController, BranchesController, BookmarksController, RemotesController, CleanupController, ResetController],
      providers: [
        { provide: GIT_SERVICE_ENV, useValue: env },
        Clock,
        GitCli,
        GitMetrics,
        GitLockFilesRepository,
        WorkspaceVolumeRepository,
        GitOperationRunner,
        GitRepositoryRepository,
        RevisionResolver,
        RepoService,
        GitBranchesRepository,
        BranchesService,
        GitBookmarksRepository,
        BookmarksService,
        GitRemoteRepository,
        RemotesService,
        AppRegistryRepository,
        CleanupService,
        RepoHealthRepository,
        ProgressPublisherRepository,
        ResetService,
      ],
    };
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import { AppWriteLock, LeveledCache, type AppLease } from '@overskill/persistence';
import type { Logger } from 'pino';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';
import { assertAppId } from './app-id';
import { Clock } from './clock';
import { GitCommandError } from './git-cli';
import { GitLockFilesRepository } from './git-lock-files.repository';
import { GitMetrics } from './git-metrics';
import { WorkspaceVolumeRepository } from './workspace-volume.repository';

// Operations that change the files of the working tree: the cached file tree and file contents
// of the app (orchestrator, tool-runner) are dropped once they succeed. A commit or push does not
// change a file, so it keeps them.
const CHANGES_WORKTREE = new Set(['restore', 'branch_create', 'branch_switch']);

// Every handler runs through here: the app id is checked, the outcome counted and timed, and
// a write holds the app's lock (shared with every other writer on the volume), first clears lock
// files a crashed git process left behind, and confirms the lock is still held just before it
// starts: a lease lost while waiting on stale git locks never reaches the repository.
@Injectable()
export class GitOperationRunner {
  constructor(
    @Inject(GIT_SERVICE_ENV) private readonly env: GitServiceEnv,
    private readonly appLock: AppWriteLock,
    private readonly lockFiles: GitLockFilesRepository,
    private readonly volume: WorkspaceVolumeRepository,
    private readonly metrics: GitMetrics,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cache: LeveledCache,
  ) {}

  // Reads take no lock: git reads are safe beside a write, and run without optional locks.
  read<T>(operation: string, appId: string, work: (dir: string) => Promise<T>): Promise<T> {
    return this.measure(operation, async () => work(await this.existingRepo(appId)));
  }

  write<T>(operation: string, appId: string, work: (dir: string) => Promise<T>): Promise<T> {
    return this.measure(operation, async () => {
      const dir = await this.existingRepo(appId);
      return this.withAppLock(appId, async (lease) => {
        await this.clearStaleLocks(appId, dir);
        await lease.assertHeld();
        const result = await work(dir);
        if (CHANGES_WORKTREE.has(operation)) await this.cache.dropApp(appId);
        return result;
      });
    });
  }

  // A write for an app that has no repository yet (init, clone).
  create<T>(operation: string, appId: string, work: () => Promise<T>): Promise<T> {
    return this.measure(operation, async () => {
      assertAppId(appId);
      return this.withAppLock(appId, async (lease) => {
        if (await this.volume.hasRepo(appId)) throw new AppError(ErrorCode.GIT_REPO_EXISTS, `App ${appId} already has a repository`);
        await lease.assertHeld();
        return work();
      });
    });
  }

  withAppLock<T>(appId: string, work: (lease: AppLease) => Promise<T>): Promise<T> {
    return this.appLock.withLock(appId, work, { waitMs: this.env.GIT_LOCK_WAIT_MS, leaseMs: this.env.GIT_LOCK_LEASE_MS });
  }

  async measure<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await work();
    } catch (err) {
      const mapped = mapGitError(err);
      outcome = mapped instanceof AppError ? mapped.code : ErrorCode.INTERNAL;
      throw mapped;
    } finally {
      this.metrics.operations.inc({ operation, outcome });
      this.metrics.duration.observe({ operation, outcome }, (performance.now() - started) / 1000);
    }
  }

  private async existingRepo(appId: string): Promise<string> {
    assertAppId(appId);
    if (!(await this.volume.hasRepo(appId))) throw new AppError(ErrorCode.GIT_REPO_NOT_FOUND, `App ${appId} has no repository`);
    return this.volume.repoDir(appId);
  }

  // We hold the app lock, so no overskill writer is in this repository. A lock file still
  // there belongs to a git process that crashed, or to one running outside overskill. It is
  // removed only once it is older than GIT_STALE_LOCK_MS and no git process works in the
  // repository; a live holder makes the write wait, then fail with GIT_REPO_LOCKED.
  private async clearStaleLocks(appId: string, dir: string): Promise<void> {
    const deadline = this.clock.now() + this.env.GIT_STALE_LOCK_MS + 2000;
    for (;;) {
      const locks = await this.lockFiles.list(dir);
      if (locks.length === 0) return;
      const stale = locks.filter((lock) => lock.ageMs >= this.env.GIT_STALE_LOCK_MS);
      if (stale.length > 0 && (await this.lockFiles.gitProcessesIn(dir)).length === 0) {
        for (const lock of stale) {
          await this.lockFiles.remove(lock.path);
          this.metrics.staleLocksRemoved.inc();
          this.logger.warn({ appId, lock: lock.name, ageMs: Math.round(lock.ageMs) }, 'removed a stale git lock file left by a crashed git process');
        }
        continue;
      }
      if (this.clock.now() >= deadline) {
        throw new AppError(
          ErrorCode.GIT_REPO_LOCKED,
          `Another git process is working in app ${appId}'s repository (${locks.map((l) => l.name).join(', ')}); try again when it finishes`,
        );
      }
      await this.clock.sleep(100);
    }
  }
}

// Failures git reports the same way whatever the command; the rest stay as they are (an
// unexpected GitCommandError becomes INTERNAL at the edge, its redacted text logged).
function mapGitError(err: unknown): unknown {
  if (!(err instanceof GitCommandError)) return err;
  if (/Unable to create '.*\.lock': File exists|cannot lock ref/i.test(err.stderr)) {
    return new AppError(ErrorCode.GIT_REPO_LOCKED, 'Another git process is working in this repository; try again when it finishes');
  }
  return err;
}

import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, gitV1, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';
import { GitLockFilesRepository } from '../git/git-lock-files.repository';
import { GitOperationRunner } from '../git/git-operation.runner';
import { ProgressPublisherRepository } from './progress-publisher.repository';
import { RepoHealthRepository } from './repo-health.repository';

type Problem = { appId: string; kind: string; path: string; action: string; detail: string };

// The seed's "reset Git service": every repository on the volume checked for what a crashed or
// interrupted git leaves behind, and repaired under the app's write lock, or only reported.
@Injectable()
export class ResetService {
  constructor(
    @Inject(GIT_SERVICE_ENV) private readonly env: GitServiceEnv,
    private readonly runner: GitOperationRunner,
    private readonly health: RepoHealthRepository,
    private readonly lockFiles: GitLockFilesRepository,
    private readonly progress: ProgressPublisherRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  reset(req: RpcRequest<typeof Rpc.gitRepoReset>): Promise<RpcReply<typeof Rpc.gitRepoReset>> {
    return this.runner.measure(req.dryRun ? 'reset_dry_run' : 'reset', async () => {
      if (req.staleLockSeconds < 0n) throw new AppError(ErrorCode.VALIDATION_FAILED, 'stale_lock_seconds must not be negative');
      const staleMs = req.staleLockSeconds > 0n ? Number(req.staleLockSeconds) * 1000 : this.env.GIT_STALE_LOCK_MS;
      return this.progress.during(req.progressSubject, async (publish) => {
        const folders = (await this.health.appFolders(this.env.WORKSPACES_DIR)).filter((f) => isEntityId(f.name));
        const problems: Problem[] = [];
        let scanned = 0;
        for (const [i, folder] of folders.entries()) {
          if (await this.health.isRepository(folder.path)) {
            scanned++;
            problems.push(...(await this.checkOne(folder.name, folder.path, staleMs, req.dryRun)));
          }
          publish(create(gitV1.RepoResetProgressSchema, { done: i + 1, total: folders.length }));
        }
        const repaired = problems.filter((p) => p.action === 'removed' || p.action === 'aborted').length;
        return { problems, scanned, repaired, dryRun: req.dryRun, staleLockSeconds: BigInt(Math.round(staleMs / 1000)) };
      });
    });
  }

  private async checkOne(appId: string, dir: string, staleMs: number, dryRun: boolean): Promise<Problem[]> {
    if (dryRun) return this.inspect(appId, dir, staleMs, true);
    try {
      // No overskill writer is inside the repository while we repair it.
      return await this.runner.withAppLock(appId, async (lease) => {
        await lease.assertHeld();
        return this.inspect(appId, dir, staleMs, false);
      });
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.APP_BUSY) {
        return [{ appId, kind: 'app_busy', path: '', action: 'skipped_busy', detail: 'an overskill write holds the app lock; run git reset again later' }];
      }
      throw err;
    }
  }

  private async inspect(appId: string, dir: string, staleMs: number, dryRun: boolean): Promise<Problem[]> {
    const problems: Problem[] = [];
    const locks = await this.lockFiles.list(dir);
    const holders = locks.length > 0 ? await this.lockFiles.gitProcessesIn(dir) : [];
    for (const lock of locks) {
      const age = `${Math.round(lock.ageMs / 1000)} s old`;
      if (lock.ageMs < staleMs || holders.length > 0) {
        const why = holders.length > 0 ? `git process ${holders.join(', ')} works in the repository` : `younger than ${Math.round(staleMs / 1000)} s`;
        problems.push({ appId, kind: 'live_lock', path: lock.name, action: 'kept_in_use', detail: `${age}; ${why}` });
        continue;
      }
      if (!dryRun) {
        await this.lockFiles.remove(lock.path);
        this.logger.warn({ appId, lock: lock.name, ageMs: Math.round(lock.ageMs) }, 'git reset removed a stale lock file');
      }
      problems.push({
        appId,
        kind: 'stale_lock',
        path: lock.name,
        action: dryRun ? 'would_remove' : 'removed',
        detail: `${age}; no git process in the repository`,
      });
    }
    // Aborting needs the index lock: only when no live lock remains.
    const interrupted = await this.health.interrupted(dir);
    if (interrupted) {
      const blocked = problems.some((p) => p.kind === 'live_lock');
      let action = dryRun ? 'would_abort' : blocked ? 'kept_in_use' : 'aborted';
      let detail = `.git/${interrupted.marker} is present; \`git ${interrupted.abort.join(' ')}\` returns the repository to its last commit`;
      if (action === 'aborted') {
        try {
          await this.health.abort(dir, interrupted);
          this.logger.warn({ appId, operation: interrupted.kind }, 'git reset aborted an interrupted operation');
        } catch (err) {
          action = 'cannot_fix';
          detail = `git ${interrupted.abort.join(' ')} failed: ${(err as Error).message.slice(0, 300)}`;
        }
      }
      problems.push({ appId, kind: interrupted.kind, path: interrupted.marker, action, detail });
    }
    for (const broken of await this.health
      .brokenRefs(dir)
      .catch((err: Error) => [{ ref: 'HEAD', detail: `git cannot read the repository: ${err.message.slice(0, 300)}` }])) {
      problems.push({
        appId,
        kind: 'broken_ref',
        path: broken.ref,
        action: 'cannot_fix',
        detail: `${broken.detail}; restore the repository from a backup (overskill backup restore) or delete the ref by hand`,
      });
    }
    return problems;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';
import { Clock } from '../git/clock';
import { GitOperationRunner } from '../git/git-operation.runner';
import { WorkspaceVolumeRepository } from '../git/workspace-volume.repository';
import { AppRegistryRepository } from './app-registry.repository';

interface Candidate {
  appId: string;
  name: string;
  path: string;
}

@Injectable()
export class CleanupService {
  constructor(
    @Inject(GIT_SERVICE_ENV) private readonly env: GitServiceEnv,
    private readonly runner: GitOperationRunner,
    private readonly volume: WorkspaceVolumeRepository,
    private readonly registry: AppRegistryRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // A repository whose app row is gone, untouched for the grace period, is removed (or, in a
  // dry run, reported). Folders an interrupted init or clone left behind go the same way.
  // Recent activity keeps a folder: an app being created, or an orchestrator restored from an
  // older backup, must not lose its repository.
  cleanup(req: RpcRequest<typeof Rpc.gitRepoCleanup>): Promise<RpcReply<typeof Rpc.gitRepoCleanup>> {
    return this.runner.measure(req.dryRun ? 'cleanup_dry_run' : 'cleanup', async () => {
      if (req.graceSeconds < 0n) throw new AppError(ErrorCode.VALIDATION_FAILED, 'grace_seconds must not be negative');
      const graceSeconds = req.graceSeconds > 0n ? Number(req.graceSeconds) : this.env.GIT_ORPHAN_GRACE_SECONDS;
      const { apps, temps } = await this.volume.list();
      const appFolders = apps.filter((entry) => isEntityId(entry.name));
      const live = await this.registry.existing(appFolders.map((entry) => entry.name));
      const candidates: Candidate[] = [
        ...appFolders.filter((entry) => !live.has(entry.name)).map((entry) => ({ ...entry, appId: entry.name })),
        ...temps.map((entry) => ({ ...entry, appId: '' })),
      ];
      const orphans = [];
      let removed = 0;
      for (const candidate of candidates) {
        const lastActivity = await this.volume.lastActivityMs(candidate.path);
        const sizeBytes = await this.volume.sizeBytes(candidate.path);
        const expired = this.clock.now() - lastActivity >= graceSeconds * 1000;
        if (expired && !req.dryRun) {
          // Under the app's lock: no write of another service is halfway through this folder.
          if (candidate.appId) {
            await this.runner.withAppLock(candidate.appId, async (lease) => {
              await lease.assertHeld();
              await this.volume.remove(candidate.path);
            });
          } else await this.volume.remove(candidate.path);
          removed += 1;
          this.logger.info({ appId: candidate.appId, directory: candidate.name, sizeBytes }, 'removed an orphaned repository');
        }
        orphans.push({
          appId: candidate.appId,
          directory: candidate.name,
          lastActivityAt: new Date(lastActivity).toISOString(),
          sizeBytes: BigInt(sizeBytes),
          removed: expired && !req.dryRun,
          action: !expired ? 'kept_in_grace_period' : req.dryRun ? 'would_remove' : 'removed',
        });
      }
      return { orphans, scanned: appFolders.length + temps.length, removed, graceSeconds: BigInt(graceSeconds), dryRun: req.dryRun };
    });
  }
}

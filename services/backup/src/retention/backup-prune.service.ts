import { Inject, Injectable, Logger } from '@nestjs/common';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import type { BaseBackupInfo } from '../archive/backup-manifest';
import type { BackupEntity } from '../persistence/entities';
import { WalArchiveRepository } from '../wal/wal-archive.repository';
import { expiredBackups, type RetentionPolicy } from './retention-policy';

export interface PruneResult {
  dryRun: boolean;
  // WAL segments removed because no kept base backup needs them any more.
  walSegments: number;
  expired: { id: string; kind: string; createdAt: string; fileName: string }[];
}

// Applies the retention policy to the catalog and both copies of every archive.
@Injectable()
export class BackupPruneService {
  private readonly log = new Logger(BackupPruneService.name);
  readonly policy: RetentionPolicy;

  constructor(
    @Inject(BACKUP_ENV) env: BackupEnv,
    private readonly catalog: BackupCatalogRepository,
    private readonly files: ArchiveFileRepository,
    private readonly wal: WalArchiveRepository,
  ) {
    const gfs = env.BACKUP_GFS?.split(',').map(Number);
    this.policy = { days: env.BACKUP_RETENTION_DAYS, gfs: gfs ? { daily: gfs[0], weekly: gfs[1], monthly: gfs[2] } : undefined };
  }

  // WAL older than the start of the oldest kept base backup restores nothing; without any base
  // backup nothing is removed (there is no telling what a later one will need).
  private async pruneWal(kept: BackupEntity[]): Promise<number> {
    const starts = kept.filter((r) => r.kind === 'base' && r.status === 'completed' && r.manifest?.base).map((r) => r.manifest?.base as BaseBackupInfo);
    if (starts.length === 0) return 0;
    const oldest = starts.reduce((a, b) => (a.startWal <= b.startWal ? a : b));
    const removed = await this.wal.pruneBefore(oldest.startWal, oldest.walSegmentBytes);
    if (removed > 0) this.log.log(`removed ${removed} WAL segments older than the oldest kept base backup (${oldest.startWal})`);
    return removed;
  }

  async prune(dryRun: boolean, now = new Date()): Promise<PruneResult> {
    const rows = await this.catalog.all();
    const ids = new Set(expiredBackups(rows, this.policy, now));
    const expired = rows.filter((r) => ids.has(r.id));
    if (!dryRun) {
      for (const row of expired) {
        if (row.path) await this.files.remove(row.path);
        if (row.copyPath) await this.files.remove(row.copyPath);
        await this.catalog.markDeleted(row.id);
      }
      if (expired.length > 0) this.log.log(`pruned ${expired.length} backups older than the retention policy`);
    }
    const walSegments = dryRun ? 0 : await this.pruneWal(rows.filter((r) => !ids.has(r.id)));
    return { dryRun, walSegments, expired: expired.map((r) => ({ id: r.id, kind: r.kind, createdAt: r.createdAt.toISOString(), fileName: r.fileName })) };
  }
}

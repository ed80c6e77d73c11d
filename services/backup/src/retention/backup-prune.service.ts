import { Inject, Injectable, Logger } from '@nestjs/common';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { expiredBackups, type RetentionPolicy } from './retention-policy';

export interface PruneResult {
  dryRun: boolean;
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
  ) {
    const gfs = env.BACKUP_GFS?.split(',').map(Number);
    this.policy = { days: env.BACKUP_RETENTION_DAYS, gfs: gfs ? { daily: gfs[0], weekly: gfs[1], monthly: gfs[2] } : undefined };
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
    return { dryRun, expired: expired.map((r) => ({ id: r.id, kind: r.kind, createdAt: r.createdAt.toISOString(), fileName: r.fileName })) };
  }
}

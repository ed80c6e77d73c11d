import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { BackupMetrics } from '../metrics/backup-metrics';
import { BackupCatalogRepository } from './backup-catalog.repository';

// What a crash left behind is settled at start: interrupted rows become failed, partial files
// and staging folders go, and the freshness gauges start from the catalog, not from zero.
@Injectable()
export class BackupStartupService implements OnApplicationBootstrap {
  private readonly log = new Logger(BackupStartupService.name);

  constructor(
    private readonly catalog: BackupCatalogRepository,
    private readonly files: ArchiveFileRepository,
    private readonly metrics: BackupMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const failed = await this.catalog.failInterrupted();
      if (failed > 0) this.log.warn(`${failed} interrupted backups marked failed`);
      // Another replica may be writing into the same folder: leftovers go only when nothing runs.
      if (!(await this.catalog.anyRunning())) {
        const removed = await this.files.removeLeftovers(this.catalog.staleMs);
        if (removed.length > 0) this.log.warn(`removed leftovers of interrupted work: ${removed.join(', ')}`);
      }
      const seen = new Set<string>();
      let drilled = false;
      for (const row of await this.catalog.all()) {
        if (row.status === 'completed' && row.finishedAt && !seen.has(row.kind)) {
          seen.add(row.kind);
          this.metrics.lastSuccess.set({ kind: row.kind }, Math.floor(row.finishedAt.getTime() / 1000));
        }
        if (row.drillOk && row.drilledAt && !drilled) {
          drilled = true;
          this.metrics.lastVerifiedRestore.set(Math.floor(row.drilledAt.getTime() / 1000));
        }
      }
    } catch (err) {
      // Postgres may still be starting; readiness reports it and the scheduler retries.
      this.log.warn(`startup cleanup skipped: ${(err as Error).message}`);
    }
  }
}

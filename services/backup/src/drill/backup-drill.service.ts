import { Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { join } from 'node:path';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import { DatabaseDumpRepository } from '../database/database-dump.repository';
import { BackupMetrics } from '../metrics/backup-metrics';
import type { BackupEntity } from '../persistence/entities';
import { RepositoryBundleRepository } from '../repositories/repository-bundle.repository';
import type { Progress } from '../progress/progress';
import { BackupRestoreService } from '../restore/backup-restore.service';

export interface DrillResult {
  backupId: string;
  ok: boolean;
  rtoMs: number;
  findings: string[];
  tablesCompared: number;
  repositoriesCompared: number;
}

// A restore drill: the newest backup holding data is restored into scratch and compared with
// what its manifest recorded (row counts and per-table digests, git fsck and every ref's sha).
// The measured restore time is the RTO; a mismatch flags the backup and counts as a failure.
@Injectable()
export class BackupDrillService {
  private readonly log = new Logger(BackupDrillService.name);

  constructor(
    private readonly catalog: BackupCatalogRepository,
    private readonly restorer: BackupRestoreService,
    private readonly database: DatabaseDumpRepository,
    private readonly repos: RepositoryBundleRepository,
    private readonly files: ArchiveFileRepository,
    private readonly metrics: BackupMetrics,
  ) {}

  async drill(id?: string, progress?: Progress): Promise<DrillResult> {
    return this.drillBackup(await this.choose(id), progress);
  }

  // The backup a drill restores: the one named, or the newest complete one holding data.
  async choose(id?: string): Promise<BackupEntity> {
    const row = id
      ? await this.catalog.find(id)
      : (await this.catalog.all()).find((b) => b.status === 'completed' && ['full', 'database', 'repos'].includes(b.kind));
    if (!row)
      throw new AppError(ErrorCode.BACKUP_NOT_FOUND, id ? `no backup ${id} in the catalog` : 'no completed full, database or repos backup to drill yet');
    return row;
  }

  async drillBackup(row: BackupEntity, progress?: Progress): Promise<DrillResult> {
    const findings: string[] = [];
    let rtoMs = 0;
    let tables = 0;
    let repositories = 0;
    let scratchDatabase = '';
    let scratchDir = '';
    try {
      const started = Date.now();
      // A base backup is drilled by replaying all the WAL after it: the whole chain is read and checked.
      const restored = await this.restorer.restore({ id: row.id, target: 'scratch', progress, ...(row.kind === 'base' ? { to: 'latest' } : {}) });
      rtoMs = Date.now() - started;
      scratchDatabase = restored.scratchDatabase;
      scratchDir = restored.scratchDir;
      const manifest = row.manifest;
      const database = restored.pointInTime?.database ?? manifest?.database;
      if (database && scratchDatabase) {
        const actual = new Map((await this.database.statsOf(scratchDatabase, database.schemas, database.digest ?? 'md5')).map((t) => [t.table, t]));
        for (const expected of database.tables) {
          tables += 1;
          progress?.('compare', tables, database.tables.length, 'tables');
          const got = actual.get(expected.table);
          if (!got) findings.push(`table ${expected.table} is missing after restore`);
          else if (got.rows !== expected.rows) findings.push(`table ${expected.table}: ${got.rows} rows restored, ${expected.rows} backed up`);
          else if (got.contentHash !== expected.contentHash) findings.push(`table ${expected.table}: content differs from the backup (same ${got.rows} rows)`);
        }
      }
      for (const repo of manifest?.repositories ?? []) {
        repositories += 1;
        const dir = join(scratchDir, 'repos', repo.appId);
        try {
          await this.repos.fsck(dir);
        } catch (err) {
          findings.push(`repository ${repo.appId}: git fsck failed after restore: ${(err as Error).message}`);
          continue;
        }
        const { refs, head } = await this.repos.refs(dir);
        for (const [ref, sha] of Object.entries(repo.refs))
          if (refs[ref] !== sha) findings.push(`repository ${repo.appId}: ${ref} is ${refs[ref] ?? 'missing'}, backed up ${sha}`);
        for (const ref of Object.keys(refs)) if (!(ref in repo.refs)) findings.push(`repository ${repo.appId}: unexpected ref ${ref}`);
        if (repo.head && head !== repo.head) findings.push(`repository ${repo.appId}: HEAD is ${head || 'detached'}, backed up ${repo.head}`);
      }
    } catch (err) {
      findings.push(`restore failed: ${(err as Error).message}`);
    } finally {
      if (scratchDatabase) await this.database.dropScratch(scratchDatabase).catch(() => undefined);
      if (scratchDir) await this.files.removeDir(scratchDir);
    }
    const ok = findings.length === 0;
    await this.catalog.recordDrill(row.id, {
      ok,
      rtoMs,
      detail: ok ? `${tables} tables and ${repositories} repositories equal to the manifest` : findings.join('\n'),
    });
    if (ok) {
      this.metrics.lastVerifiedRestore.set(Math.floor(Date.now() / 1000));
      this.metrics.drillRto.set(rtoMs / 1000);
    } else this.metrics.drillFailures.inc();
    this.log[ok ? 'log' : 'error'](`drill of backup ${row.id}: ${ok ? 'passed' : 'FAILED'} in ${rtoMs} ms${ok ? '' : `: ${findings.join('; ')}`}`);
    return { backupId: row.id, ok, rtoMs, findings, tablesCompared: tables, repositoriesCompared: repositories };
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { AppWriteLock } from '@overskill/persistence';
import { chmod, cp, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupCreateService } from '../archive/backup-create.service';
import type { BackupManifest, BackupType, DatabaseInfo } from '../archive/backup-manifest';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { DatabaseDumpRepository } from '../database/database-dump.repository';
import { PointInTimeService } from '../pitr/point-in-time.service';
import type { Progress } from '../progress/progress';
import { RedisStateRepository } from '../redis-state/redis-state.repository';
import { RepositoryBundleRepository } from '../repositories/repository-bundle.repository';
import { BackupVerifyService, type VerifyCheck } from '../verify/backup-verify.service';

export interface RestoreRequest {
  id?: string;
  file?: string;
  target: 'scratch' | 'live';
  force?: boolean;
  // Only this app's repository.
  appId?: string;
  // Point-in-time: "latest" or an ISO time; restores the database from a base backup and the WAL.
  to?: string;
  progress?: Progress;
}

export interface PointInTimeResult {
  baseBackupId: string;
  // The commit time of the last transaction the restored database holds.
  recoveredTo: string;
  walSegments: number;
  // The recovered state as a manifest records it (row counts, digests): what a drill compares.
  database: DatabaseInfo;
}

export interface RestoreResult {
  backupId: string;
  target: 'scratch' | 'live';
  // Scratch: the database and folder the archive was restored into.
  scratchDatabase: string;
  scratchDir: string;
  safetyBackupId: string;
  restored: string[];
  durationMs: number;
  checks: VerifyCheck[];
  pointInTime?: PointInTimeResult;
}

// Restores a verified archive: into scratch (a new database and folder, nothing live touched) or
// over live data (only with force, after a safety backup). Every check runs before the first
// live change; the database is replaced in one transaction, each repository by one rename.
@Injectable()
export class BackupRestoreService {
  private readonly log = new Logger(BackupRestoreService.name);

  constructor(
    @Inject(BACKUP_ENV) private readonly env: BackupEnv,
    private readonly verifier: BackupVerifyService,
    private readonly creator: BackupCreateService,
    private readonly files: ArchiveFileRepository,
    private readonly database: DatabaseDumpRepository,
    private readonly repos: RepositoryBundleRepository,
    private readonly redis: RedisStateRepository,
    private readonly appLock: AppWriteLock,
    private readonly pointInTime: PointInTimeService,
  ) {}

  async restore(req: RestoreRequest): Promise<RestoreResult> {
    if (req.target === 'live' && !req.force) {
      throw new AppError(
        ErrorCode.BACKUP_FORCE_REQUIRED,
        'restoring over live data replaces it: stop the writers, then repeat with --force (a safety backup is taken first)',
      );
    }
    const started = Date.now();
    if (req.to !== undefined) return this.restorePointInTime(req, started);
    const opened = await this.verifier.open({ id: req.id, file: req.file }, { progress: req.progress });
    if (!opened.ok || !opened.dir || !opened.manifest) {
      const failed = opened.checks.find((c) => !c.ok);
      throw new AppError(
        ErrorCode.BACKUP_ARCHIVE_INVALID,
        `the archive did not verify, nothing was restored: ${failed ? `${failed.name}: ${failed.detail}` : 'unknown'}`,
        {
          backupId: opened.backupId,
        },
      );
    }
    const dir = opened.dir;
    const manifest = opened.manifest;
    try {
      if (manifest.base)
        throw new AppError(ErrorCode.VALIDATION_FAILED, `backup ${manifest.id} is a base backup: restore it to a moment with --to <time> or --to latest`);
      if (req.appId && !manifest.repositories?.some((r) => r.appId === req.appId)) {
        throw new AppError(ErrorCode.APP_NOT_FOUND, `backup ${manifest.id} has no repository for app ${req.appId}`);
      }
      const result: RestoreResult = {
        backupId: manifest.id,
        target: req.target,
        scratchDatabase: '',
        scratchDir: '',
        safetyBackupId: '',
        restored: [],
        durationMs: 0,
        checks: opened.checks,
      };
      await this.apply(dir, manifest, req, result);
      result.durationMs = Date.now() - started;
      this.log.log(`restored backup ${manifest.id} to ${req.target} in ${result.durationMs} ms: ${result.restored.join(', ')}`);
      return result;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorCode.BACKUP_RESTORE_FAILED, `restore of backup ${manifest.id} failed: ${(err as Error).message}`, { backupId: manifest.id });
    } finally {
      await this.files.removeDir(dir);
    }
  }

  // The database as of a moment, recovered from a base backup and the WAL, then applied like a
  // logical backup: into scratch, or over live data after the same checks and safety backup.
  private async restorePointInTime(req: RestoreRequest, started: number): Promise<RestoreResult> {
    if (req.appId)
      throw new AppError(ErrorCode.VALIDATION_FAILED, '--to restores the database; repositories are restored from a full or repos backup (--app without --to)');
    const recovered = await this.pointInTime.recover({ id: req.id, file: req.file }, req.to ?? 'latest', req.progress);
    const { dir, manifest } = recovered;
    try {
      const result: RestoreResult = {
        backupId: recovered.baseBackupId,
        target: req.target,
        scratchDatabase: '',
        scratchDir: '',
        safetyBackupId: '',
        restored: [],
        durationMs: 0,
        checks: recovered.checks,
        pointInTime: {
          baseBackupId: recovered.baseBackupId,
          recoveredTo: recovered.recoveredTo,
          walSegments: recovered.walSegments,
          database: manifest.database as DatabaseInfo,
        },
      };
      await this.apply(dir, manifest, { ...req, appId: undefined }, result);
      result.restored = result.restored.map((r) => (r.startsWith('database') ? `${r} as of ${recovered.recoveredTo}` : r));
      result.durationMs = Date.now() - started;
      this.log.log(
        `restored the database to ${recovered.recoveredTo} (base ${recovered.baseBackupId}, ${recovered.walSegments} WAL segments) into ${req.target} in ${result.durationMs} ms`,
      );
      return result;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorCode.BACKUP_RESTORE_FAILED, `point-in-time restore failed: ${(err as Error).message}`, { backupId: recovered.baseBackupId });
    } finally {
      await this.files.removeDir(dir);
    }
  }

  private async apply(dir: string, manifest: BackupManifest, req: RestoreRequest, result: RestoreResult): Promise<void> {
    // pg_restore and git report no byte counts: the step is announced with the archive's size.
    const size = manifest.artifacts.reduce((n, a) => n + a.sizeBytes, 0);
    req.progress?.('restore', 0, size);
    if (req.target === 'scratch') await this.toScratch(dir, manifest, req.appId, result);
    else await this.overLive(dir, manifest, req.appId, result);
    req.progress?.('restore', size, size);
  }

  private scratchName(manifest: BackupManifest): string {
    return `${this.env.BACKUP_SCRATCH_DATABASE_PREFIX}_${manifest.id.slice(0, 8)}`;
  }

  private async toScratch(dir: string, manifest: BackupManifest, appId: string | undefined, result: RestoreResult): Promise<void> {
    const scratchDir = join(this.env.BACKUP_DIR, 'scratch', `${manifest.id.slice(0, 8)}-${Date.now().toString(36)}`);
    await mkdir(scratchDir, { recursive: true, mode: 0o700 });
    result.scratchDir = scratchDir;
    const db = manifest.artifacts.find((a) => a.kind === 'database');
    if (db && !appId) {
      result.scratchDatabase = this.scratchName(manifest);
      await this.database.createScratch(result.scratchDatabase);
      await this.database.restoreInto(join(dir, db.path), result.scratchDatabase);
      result.restored.push(`database → ${result.scratchDatabase}`);
    }
    for (const repo of manifest.repositories ?? []) {
      if (appId && repo.appId !== appId) continue;
      await this.repos.restoreTo(repo.bundle ? join(dir, repo.bundle) : null, join(scratchDir, 'repos', repo.appId), repo.head, repo.marker);
      result.restored.push(`repository ${repo.appId}`);
    }
    if (!appId && manifest.config) {
      for (const top of ['config', 'secrets']) {
        if (
          await stat(join(dir, top)).then(
            () => true,
            () => false,
          )
        ) {
          await cp(join(dir, top), join(scratchDir, top), { recursive: true });
          await chmod(join(scratchDir, top), 0o700);
          result.restored.push(`${top} files`);
        }
      }
    }
  }

  // Refuses an archive whose schemas are newer than this platform's (its migrations unknown here).
  private async checkSchemaAge(manifest: BackupManifest): Promise<void> {
    if (!manifest.database) return;
    const live = await this.database.liveMigrations(Object.keys(manifest.database.migrations));
    for (const [schema, names] of Object.entries(manifest.database.migrations)) {
      const known = new Set(live[schema] ?? []);
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length > 0) {
        throw new AppError(
          ErrorCode.BACKUP_ARCHIVE_TOO_NEW,
          `the archive's ${schema} schema has migrations this platform does not (${unknown.join(', ')}): restore it with the release that wrote it, or into scratch`,
        );
      }
    }
  }

  private async overLive(dir: string, manifest: BackupManifest, appId: string | undefined, result: RestoreResult): Promise<void> {
    const db = manifest.artifacts.find((a) => a.kind === 'database');
    const redis = manifest.artifacts.find((a) => a.kind === 'redis');
    if (db && !appId) await this.checkSchemaAge(manifest);
    // What is about to be replaced, kept first: the same parts the archive brings.
    const parts: BackupType = appId
      ? 'repos'
      : db && manifest.repositories
        ? 'full'
        : db
          ? 'database'
          : manifest.repositories
            ? 'repos'
            : redis
              ? 'redis'
              : 'config';
    if (parts === 'config')
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'a config archive is restored into scratch (--target scratch) and copied into place by hand');
    const safety = await this.creator.create({ type: parts, encrypt: this.env.BACKUP_AGE_RECIPIENTS.length >= 2, trigger: 'safety' });
    result.safetyBackupId = safety.id;
    if (db && !appId) {
      await this.database.restoreOverLive(join(dir, db.path), manifest.database?.schemas ?? []);
      result.restored.push('database');
    }
    for (const repo of manifest.repositories ?? []) {
      if (appId && repo.appId !== appId) continue;
      const bundle = repo.bundle ? join(dir, repo.bundle) : null;
      await this.appLock.withLock(
        repo.appId,
        () => this.repos.replaceLive(repo.appId, (fresh) => this.repos.restoreTo(bundle, fresh, repo.head, repo.marker)),
        { waitMs: 60_000 },
      );
      result.restored.push(`repository ${repo.appId}`);
    }
    if (redis && !appId) {
      const keys = await this.redis.load(join(dir, redis.path));
      result.restored.push(`redis (${keys} durable keys)`);
    }
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { ConfigurationFilesRepository } from '../configuration/configuration-files.repository';
import { DatabaseDumpRepository } from '../database/database-dump.repository';
import { BackupMetrics } from '../metrics/backup-metrics';
import { DURABLE_REDIS_PATTERNS, RedisStateRepository } from '../redis-state/redis-state.repository';
import { BaseBackupRepository, type ArchivingSettings } from '../pitr/base-backup.repository';
import { RepositoryBundleRepository } from '../repositories/repository-bundle.repository';
import { WalArchiveRepository } from '../wal/wal-archive.repository';
import { ArchiveFileRepository, sha256File } from './archive-file.repository';
import { archiveName } from './archive-name';
import {
  BACKUP_TYPES,
  MANIFEST_FORMAT,
  includes,
  type BackupManifest,
  type BackupType,
  type BaseBackupInfo,
  type ManifestArtifact,
  type RepositoryInfo,
} from './backup-manifest';

export interface CreatedBackup {
  id: string;
  manifest: BackupManifest;
  path: string;
  sizeBytes: number;
  sha256: string;
  fileName: string;
}

export interface CreateRequest {
  type: string;
  encrypt: boolean;
  trigger?: 'manual' | 'schedule' | 'safety' | 'deploy';
}

const REPO_CONCURRENCY = 4;
// pg_basebackup waits for the archiver; this only covers an archive folder that is synced later.
const WAL_ARRIVAL_MS = 60_000;

async function filesUnder(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(root, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

function artifactKind(path: string): ManifestArtifact['kind'] {
  const top = path.split('/')[0];
  const kinds: Record<string, ManifestArtifact['kind']> = { database: 'database', repos: 'repository', redis: 'redis', secrets: 'secrets', base: 'base' };
  return kinds[top] ?? 'config';
}

// One backup: the parts its type includes, staged, described by a manifest, packed into one
// archive, copied to the second target, and only then counted as completed in the catalog.
@Injectable()
export class BackupCreateService {
  private readonly log = new Logger(BackupCreateService.name);

  constructor(
    @Inject(BACKUP_ENV) private readonly env: BackupEnv,
    private readonly catalog: BackupCatalogRepository,
    private readonly files: ArchiveFileRepository,
    private readonly database: DatabaseDumpRepository,
    private readonly repos: RepositoryBundleRepository,
    private readonly redis: RedisStateRepository,
    private readonly configuration: ConfigurationFilesRepository,
    private readonly metrics: BackupMetrics,
    private readonly base: BaseBackupRepository,
    private readonly wal: WalArchiveRepository,
  ) {}

  parseType(type: string): BackupType {
    if (!(BACKUP_TYPES as readonly string[]).includes(type)) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, `--type must be one of ${BACKUP_TYPES.join(', ')} (got "${type}")`);
    }
    return type as BackupType;
  }

  recipients(encrypt: boolean): string[] {
    if (!encrypt) return [];
    if (this.env.BACKUP_AGE_RECIPIENTS.length < 2) {
      throw new AppError(
        ErrorCode.BACKUP_NOT_CONFIGURED,
        'encryption needs at least two age recipients in BACKUP_AGE_RECIPIENTS (the online key and the offline recovery key); create them with age-keygen',
      );
    }
    return this.env.BACKUP_AGE_RECIPIENTS;
  }

  async create(req: CreateRequest): Promise<CreatedBackup> {
    return (await this.start(req)).done;
  }

  // Validates and opens the catalog row; `done` settles when the archive is complete or failed.
  async start(req: CreateRequest): Promise<{ id: string; done: Promise<CreatedBackup> }> {
    const type = this.parseType(req.type);
    const recipients = this.recipients(req.encrypt);
    const id = randomUUID();
    const createdAt = new Date();
    try {
      await this.catalog.start({ id, kind: type, encrypted: recipients.length > 0, trigger: req.trigger ?? 'manual', createdAt });
    } catch (err) {
      this.metrics.failures.inc({ kind: type });
      throw new AppError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        `the database (which holds the backup catalog) is unreachable, so no backup was started: ${(err as Error).message}`,
      );
    }
    return { id, done: this.write(id, type, createdAt, recipients) };
  }

  private async write(id: string, type: BackupType, createdAt: Date, recipients: string[]): Promise<CreatedBackup> {
    const started = process.hrtime.bigint();
    const fileName = archiveName(id, createdAt, type, recipients.length > 0);
    let staging: string | undefined;
    const beat = setInterval(
      () =>
        void this.files
          .bytesWritten(staging, fileName)
          .then((bytes) => this.catalog.heartbeat(id, bytes))
          .catch(() => undefined),
      this.env.BACKUP_HEARTBEAT_MS,
    );
    try {
      staging = await this.files.makeStaging(id);
      const manifest = await this.stage(staging, id, type, createdAt, recipients.length > 0);
      const entries = ['manifest.json', ...new Set(manifest.artifacts.map((a) => a.path.split('/')[0]))];
      const packed = await this.files.pack(staging, entries, fileName, recipients);
      const copyPath = this.env.BACKUP_COPY_DIR ? await this.files.copyTo(this.env.BACKUP_COPY_DIR, packed.path, packed.sha256) : '';
      await this.catalog.complete(id, { path: packed.path, fileName, copyPath, sizeBytes: packed.sizeBytes, sha256: packed.sha256, manifest });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.duration.observe({ kind: type, outcome: 'ok' }, seconds);
      this.metrics.lastSuccess.set({ kind: type }, Math.floor(Date.now() / 1000));
      this.metrics.bytes.set({ kind: type }, packed.sizeBytes);
      this.log.log(`backup ${id} (${type}) written: ${fileName}, ${packed.sizeBytes} bytes in ${seconds.toFixed(1)} s`);
      return { id, manifest, path: packed.path, sizeBytes: packed.sizeBytes, sha256: packed.sha256, fileName };
    } catch (err) {
      const message = (err as Error).message;
      await this.catalog.fail(id, message).catch(() => undefined);
      this.metrics.failures.inc({ kind: type });
      this.metrics.duration.observe({ kind: type, outcome: 'failed' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.log.error(`backup ${id} (${type}) failed: ${message}`);
      if (err instanceof AppError) throw err;
      const full = /ENOSPC|No space left/i.test(message);
      throw new AppError(ErrorCode.BACKUP_FAILED, `backup ${id} failed${full ? ' (the backup disk is full)' : ''}: ${message}`, { backupId: id });
    } finally {
      clearInterval(beat);
      if (staging) await this.files.removeDir(staging);
    }
  }

  private async stage(staging: string, id: string, type: BackupType, createdAt: Date, encrypted: boolean): Promise<BackupManifest> {
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      id,
      type,
      createdAt: createdAt.toISOString(),
      encrypted,
      platformCommit: this.env.OVERSKILL_COMMIT,
      tools: await this.files.toolVersions(),
      artifacts: [],
      warnings: [],
      timingsMs: {},
    };
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      try {
        return await fn();
      } finally {
        manifest.timingsMs[name] = Date.now() - t;
      }
    };
    // The parts read different things (Postgres, the volume, Redis), so they are taken side by side.
    const parts: Promise<void>[] = [];
    // Artifacts already hashed while they were written (the dump): not read a second time.
    const hashed = new Map<string, { sha256: string; sizeBytes: number }>();
    if (includes(type, 'database')) {
      await mkdir(join(staging, 'database'));
      try {
        await this.database.ping();
      } catch (err) {
        throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, `the database is unreachable, so no backup was taken: ${(err as Error).message}`);
      }
      parts.push(
        timed('database', () => this.database.dump(join(staging, 'database', 'overskill.dump'))).then((d) => {
          manifest.database = d.info;
          hashed.set(join('database', 'overskill.dump'), { sha256: d.sha256, sizeBytes: d.sizeBytes });
        }),
      );
    }
    if (includes(type, 'repos')) {
      await mkdir(join(staging, 'repos'));
      parts.push(timed('repos', () => this.stageRepos(join(staging, 'repos'), manifest.warnings)).then((repos) => void (manifest.repositories = repos)));
    }
    if (includes(type, 'redis')) {
      await mkdir(join(staging, 'redis'));
      parts.push(
        timed('redis', () => this.redis.save(join(staging, 'redis', 'durable.rdb'))).then(
          (keys) => void (manifest.redis = { keys, namespaces: DURABLE_REDIS_PATTERNS }),
        ),
      );
    }
    if (type === 'base') {
      await mkdir(join(staging, 'base'));
      parts.push(timed('base', () => this.stageBase(join(staging, 'base'))).then((info) => void (manifest.base = info)));
    }
    if (includes(type, 'config')) {
      parts.push(this.configuration.collect(staging, encrypted).then((c) => void (manifest.config = { files: c.files, secretsIncluded: encrypted })));
    }
    // Every part settles before the first failure is reported, so staging is not removed under a running tool.
    const settled = await Promise.allSettled(parts);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const hashing = Date.now();
    for (const top of ['database', 'repos', 'redis', 'config', 'secrets', 'base']) {
      if (
        !(await stat(join(staging, top)).then(
          () => true,
          () => false,
        ))
      )
        continue;
      for (const path of await filesUnder(staging, top)) {
        const file = join(staging, path);
        const known = hashed.get(path);
        const sum = known ?? { sizeBytes: (await stat(file)).size, sha256: await sha256File(file) };
        manifest.artifacts.push({ path: relative(staging, file), kind: artifactKind(path), ...sum });
      }
    }
    manifest.timingsMs.checksums = Date.now() - hashing;
    await writeFile(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  // A base backup is worth something only with its WAL: archiving must be on, and the segment
  // the backup ends in must have reached the WAL archive this service reads.
  private async stageBase(dir: string): Promise<BaseBackupInfo> {
    let settings: ArchivingSettings;
    try {
      settings = await this.base.settings();
    } catch (err) {
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, `the database is unreachable, so no base backup was taken: ${(err as Error).message}`);
    }
    if (!['on', 'always'].includes(settings.archiveMode) || !settings.archiveCommand || settings.archiveCommand === '(disabled)') {
      throw new AppError(
        ErrorCode.BACKUP_NOT_CONFIGURED,
        `WAL archiving is off on the database server (archive_mode=${settings.archiveMode}): set archive_mode, archive_command (deploy/scripts/wal-archive.sh) and archive_timeout as docs/operations/backup-and-recovery.md describes; a base backup without its WAL restores nothing`,
      );
    }
    const info = await this.base.take(dir, settings);
    const deadline = Date.now() + WAL_ARRIVAL_MS;
    while (!(await this.wal.stored()).has(info.endWal)) {
      if (Date.now() > deadline) {
        throw new AppError(
          ErrorCode.BACKUP_NOT_CONFIGURED,
          `WAL segment ${info.endWal}, which the base backup needs, did not reach ${this.wal.dirs.join(' or ')} within ${WAL_ARRIVAL_MS / 1000} s: archive_command must write there (it is "${settings.archiveCommand}")`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return info;
  }

  private async stageRepos(dir: string, warnings: string[]): Promise<RepositoryInfo[]> {
    const apps = await this.repos.listApps();
    const out: (RepositoryInfo | null)[] = new Array(apps.length).fill(null);
    let next = 0;
    // A few repositories at a time: each is a handful of short git processes.
    const worker = async () => {
      while (next < apps.length) {
        const i = next++;
        out[i] = await this.stageRepo(apps[i], dir, warnings);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REPO_CONCURRENCY, apps.length) }, worker));
    return out.filter((r): r is RepositoryInfo => r !== null);
  }

  private async stageRepo(appId: string, dir: string, warnings: string[]): Promise<RepositoryInfo | null> {
    const repoDir = this.repos.repoDir(appId);
    try {
      await this.repos.fsck(repoDir);
    } catch (err) {
      // One damaged repository must not cost every other app its backup; it is named instead.
      warnings.push(`repository ${appId} failed git fsck and is not in this archive: ${(err as Error).message}`);
      return null;
    }
    const { refs, head } = await this.repos.refs(repoDir);
    const bundle = Object.keys(refs).length > 0 ? `repos/${appId}.bundle` : null;
    if (bundle) await this.repos.bundle(repoDir, join(dir, `${appId}.bundle`));
    return { appId, refs, head, marker: await this.repos.readMarker(repoDir), bundle };
  }
}

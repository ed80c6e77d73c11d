import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { ARCHIVE_NAME } from '../archive/archive-name';
import type { BackupManifest, BaseBackupInfo } from '../archive/backup-manifest';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { DatabaseDumpRepository } from '../database/database-dump.repository';
import { BackupVerifyService, type OpenedArchive, type VerifyCheck } from '../verify/backup-verify.service';
import { noProgress, type Progress } from '../progress/progress';
import { WalArchiveRepository } from '../wal/wal-archive.repository';
import { BaseBackupRepository, serverMajor } from './base-backup.repository';
import { ReplayClusterRepository } from './replay-cluster.repository';

export interface RecoveredDatabase {
  // The extracted work folder, holding database/overskill.dump; the caller removes it.
  dir: string;
  // A database-type manifest for the dump, as if a logical backup had been taken at recoveredTo.
  manifest: BackupManifest;
  baseBackupId: string;
  baseFile: string;
  // The commit time of the last transaction replayed: what the database now reflects.
  recoveredTo: string;
  walSegments: number;
  checks: VerifyCheck[];
}

// "20261204T020000Z" in an archive name → its time.
function nameTime(file: string): number {
  const m = /^overskill-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(file);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : 0;
}

// Point-in-time recovery: the newest base backup finished before the target, every WAL segment
// from its start checked and decrypted, PostgreSQL replaying them up to the target in a private
// server, and the recovered service schemas dumped so the usual scratch or live restore applies them.
@Injectable()
export class PointInTimeService {
  constructor(
    @Inject(BACKUP_ENV) private readonly env: BackupEnv,
    private readonly verifier: BackupVerifyService,
    private readonly files: ArchiveFileRepository,
    private readonly wal: WalArchiveRepository,
    private readonly base: BaseBackupRepository,
    private readonly replay: ReplayClusterRepository,
    private readonly database: DatabaseDumpRepository,
  ) {}

  // "latest" → null (all the WAL there is); otherwise an instant with an explicit zone, not in the future.
  parseTarget(to: string, now = new Date()): Date | null {
    const text = to.trim();
    if (text === 'latest') return null;
    const when = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? new Date(text) : new Date(NaN);
    if (Number.isNaN(when.getTime())) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, `--to takes "latest" or a time with its zone, e.g. 2026-12-04T21:05:00Z (got "${to}")`);
    }
    if (when.getTime() > now.getTime()) throw new AppError(ErrorCode.VALIDATION_FAILED, `--to ${to} is in the future; the newest point is --to latest`);
    return when;
  }

  // Base backup archives in both backup folders, newest first (found by name: the catalog may be gone with the database).
  private async baseArchives(): Promise<string[]> {
    const seen = new Map<string, string>();
    for (const dir of [this.env.BACKUP_COPY_DIR, this.env.BACKUP_DIR].filter((d): d is string => !!d)) {
      for (const name of await readdir(dir).catch(() => [] as string[]))
        if (ARCHIVE_NAME.test(name) && name.includes('-base-')) seen.set(name, join(dir, name));
    }
    return [...seen.keys()]
      .sort()
      .reverse()
      .map((n) => seen.get(n) as string);
  }

  private async chooseBase(
    ref: { id?: string; file?: string },
    target: Date | null,
    progress: Progress,
  ): Promise<OpenedArchive & { dir: string; manifest: BackupManifest & { base: BaseBackupInfo } }> {
    const named = !!(ref.id || ref.file);
    const candidates = named
      ? [ref]
      : (await this.baseArchives()).filter((f) => !target || nameTime(basename(f)) <= target.getTime()).map((file) => ({ file }));
    for (const candidate of candidates) {
      const opened = await this.verifier.open(candidate, { walChain: false, progress });
      if (!opened.ok || !opened.dir || !opened.manifest) {
        const failed = opened.checks.find((c) => !c.ok);
        throw new AppError(
          ErrorCode.BACKUP_ARCHIVE_INVALID,
          `base backup ${basename(opened.file)} did not verify, nothing was restored: ${failed ? `${failed.name}: ${failed.detail}` : 'unknown'}`,
        );
      }
      const manifest = opened.manifest;
      if (!manifest.base) {
        await this.files.removeDir(opened.dir);
        throw new AppError(
          ErrorCode.VALIDATION_FAILED,
          `backup ${manifest.id} is a ${manifest.type} backup; --to needs a base backup (\`overskill backup create --type base\`)`,
        );
      }
      if (target && Date.parse(manifest.base.finishedAt) > target.getTime()) {
        await this.files.removeDir(opened.dir);
        if (named)
          throw new AppError(
            ErrorCode.VALIDATION_FAILED,
            `base backup ${manifest.id} finished at ${manifest.base.finishedAt}, after --to ${target.toISOString()}: choose an older one`,
          );
        continue;
      }
      return opened as OpenedArchive & { dir: string; manifest: BackupManifest & { base: BaseBackupInfo } };
    }
    throw new AppError(
      ErrorCode.BACKUP_NOT_FOUND,
      target
        ? `no base backup finished before ${target.toISOString()}: point-in-time restore starts from one`
        : 'no base backup yet: take one with `overskill backup create --type base`',
    );
  }

  async recover(ref: { id?: string; file?: string }, to: string, progress: Progress = noProgress): Promise<RecoveredDatabase> {
    const target = this.parseTarget(to);
    const opened = await this.chooseBase(ref, target, progress);
    const { dir, manifest } = opened;
    const base = manifest.base;
    try {
      const walDir = join(dir, 'wal');
      await mkdir(walDir, { mode: 0o700 });
      const segments = await this.stageWal(base, walDir, target, progress);
      progress('replay', 0, segments, 'segments');
      const url = new URL(this.env.DATABASE_URL);
      const replayed = await this.replay
        .replay({
          binDir: this.base.binDir(serverMajor(base.serverVersion)),
          dataDir: join(dir, 'base', 'data'),
          walDir,
          logFile: join(dir, 'replay.log'),
          target: { time: target ? target.toISOString() : null },
          user: decodeURIComponent(url.username),
          database: decodeURIComponent(url.pathname.slice(1)),
        })
        .catch((err: Error) => {
          throw new AppError(
            ErrorCode.BACKUP_RESTORE_FAILED,
            `${err.message}${target ? ' (is --to later than the newest archived WAL? then use --to latest)' : ''}`,
          );
        });
      progress('replay', segments, segments, 'segments');
      let database;
      try {
        await mkdir(join(dir, 'database'));
        database = (await this.database.dump(join(dir, 'database', 'overskill.dump'), replayed.url)).info;
      } finally {
        await replayed.stop();
      }
      // The replayed server and its WAL are no longer needed: their disk goes back before the restore.
      await rm(join(dir, 'base'), { recursive: true, force: true });
      await rm(walDir, { recursive: true, force: true });
      const recoveredTo = replayed.lastReplayedAt ?? base.finishedAt;
      const dump = join(dir, 'database', 'overskill.dump');
      return {
        dir,
        manifest: {
          ...manifest,
          id: randomUUID(),
          type: 'database',
          createdAt: recoveredTo,
          artifacts: [{ path: 'database/overskill.dump', kind: 'database', sizeBytes: await this.files.sizeOf(dump), sha256: '' }],
          database,
        },
        baseBackupId: manifest.id,
        baseFile: opened.file,
        recoveredTo,
        walSegments: segments,
        checks: opened.checks,
      };
    } catch (err) {
      await this.files.removeDir(dir);
      throw err;
    }
  }

  // Decrypts the segments replay needs into `walDir`, each checked first; a gap or a changed
  // segment stops the restore with its name rather than replaying less than asked.
  private async stageWal(base: BaseBackupInfo, walDir: string, target: Date | null, progress: Progress = noProgress): Promise<number> {
    const stored = await this.wal.stored();
    const chain = await this.wal.chain(base.startWal, base.walSegmentBytes);
    if (!chain.segments.includes(base.endWal)) {
      throw new AppError(
        ErrorCode.BACKUP_ARCHIVE_INVALID,
        `WAL segment ${chain.missing[0] ?? base.endWal} is missing from ${this.wal.dirs.join(' and ')}: base backup cannot be made consistent`,
      );
    }
    if (chain.missing.length > 0 && !target) {
      throw new AppError(
        ErrorCode.BACKUP_ARCHIVE_INVALID,
        `WAL segment ${chain.missing[0]} is missing from ${this.wal.dirs.join(' and ')}, so the newest point cannot be reached: restore --to a time before that segment`,
      );
    }
    let done = 0;
    for (const segment of chain.segments) {
      const read = await this.wal.read(segment, stored.get(segment), { out: join(walDir, segment) });
      if (!read.usedDir) throw new AppError(ErrorCode.BACKUP_ARCHIVE_INVALID, `WAL segment ${segment}: ${read.damaged.join('; ')}; nothing was restored`);
      progress('wal', ++done, chain.segments.length, 'segments');
    }
    return chain.segments.length;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { ArchiveFileRepository, sha256File } from '../archive/archive-file.repository';
import { MANIFEST_FORMAT, type BackupManifest } from '../archive/backup-manifest';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { DatabaseDumpRepository } from '../database/database-dump.repository';
import { RedisStateRepository } from '../redis-state/redis-state.repository';
import { RepositoryBundleRepository } from '../repositories/repository-bundle.repository';
import { runTool } from '../tools/run-tool';
import type { BackupEntity } from '../persistence/entities';
import { BaseBackupRepository, serverMajor } from '../pitr/base-backup.repository';
import { noProgress, type Progress } from '../progress/progress';
import { WalArchiveRepository } from '../wal/wal-archive.repository';

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  backupId: string;
  file: string;
  checks: VerifyCheck[];
  manifest: BackupManifest | null;
}

export interface OpenedArchive extends VerifyResult {
  // The extracted archive; the caller removes it.
  dir: string | null;
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

// Proves an archive is whole and readable with the tools that will restore it: the archive's
// sha256, age's authenticated decryption, zstd's checksum, every artifact's sha256 against the
// manifest, `pg_restore --list`, `git bundle verify`, `redis-check-rdb`. The first failing check
// names what is wrong.
@Injectable()
export class BackupVerifyService {
  constructor(
    @Inject(BACKUP_ENV) private readonly env: BackupEnv,
    private readonly catalog: BackupCatalogRepository,
    private readonly files: ArchiveFileRepository,
    private readonly database: DatabaseDumpRepository,
    private readonly repos: RepositoryBundleRepository,
    private readonly redis: RedisStateRepository,
    private readonly base: BaseBackupRepository,
    private readonly wal: WalArchiveRepository,
  ) {}

  // An id from the catalog, or a file name/path inside BACKUP_DIR or BACKUP_COPY_DIR.
  async locate(ref: { id?: string; file?: string }): Promise<{ file: string; row: BackupEntity | null }> {
    if (ref.id) {
      const row = await this.catalog.find(ref.id);
      if (!row) throw new AppError(ErrorCode.BACKUP_NOT_FOUND, `no backup ${ref.id} in the catalog; see \`overskill backup list\``);
      if (row.status === 'running' || row.status === 'failed' || !row.path) {
        throw new AppError(
          ErrorCode.BACKUP_ARCHIVE_INVALID,
          `backup ${ref.id} is ${row.status}${row.error ? ` (${row.error})` : ''}: it has no complete archive`,
        );
      }
      const file = (await stat(row.path).then(
        () => true,
        () => false,
      ))
        ? row.path
        : row.copyPath;
      if (!file) throw new AppError(ErrorCode.BACKUP_NOT_FOUND, `the archive of backup ${ref.id} is missing from ${this.env.BACKUP_DIR}`);
      return { file, row };
    }
    if (!ref.file) throw new AppError(ErrorCode.VALIDATION_FAILED, 'give a backup id or --file <archive>');
    const dirs = [this.env.BACKUP_DIR, this.env.BACKUP_COPY_DIR].filter((d): d is string => !!d);
    const candidates = isAbsolute(ref.file) ? [resolve(ref.file)] : dirs.map((d) => resolve(d, ref.file as string));
    for (const file of candidates) {
      if (!dirs.some((d) => inside(d, file))) continue;
      if (
        await stat(file).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return { file, row: await this.catalog.findByFile(basename(file)) };
    }
    throw new AppError(ErrorCode.BACKUP_NOT_FOUND, `no archive "${ref.file}" in ${dirs.join(' or ')}`);
  }

  async verify(ref: { id?: string; file?: string }, progress: Progress = noProgress): Promise<VerifyResult> {
    const opened = await this.open(ref, { progress });
    if (opened.dir) await this.files.removeDir(opened.dir);
    const { dir: _dir, ...result } = opened;
    return result;
  }

  // Verifies and leaves the archive extracted for a restore (dir is null when a check failed).
  // `walChain: false` when the caller reads every segment itself (a point-in-time restore).
  async open(ref: { id?: string; file?: string }, opts: { walChain?: boolean; progress?: Progress } = {}): Promise<OpenedArchive> {
    const { file, row } = await this.locate(ref);
    const progress = opts.progress ?? noProgress;
    const size = await this.files.sizeOf(file);
    const checks: VerifyCheck[] = [];
    const result = (manifest: BackupManifest | null, dir: string | null): OpenedArchive => {
      const ok = checks.every((c) => c.ok);
      return { ok, backupId: row?.id ?? manifest?.id ?? '', file, checks, manifest, dir: ok ? dir : null };
    };
    const expected =
      row?.sha256 ||
      (await readFile(`${file}.sha256`, 'utf8').then(
        (t) => t.split(/\s+/)[0],
        () => '',
      ));
    if (expected) {
      const actual = await sha256File(file, (b) => progress('checksum', b, size));
      checks.push({
        name: 'archive sha256',
        ok: actual === expected,
        detail: actual === expected ? `${actual} (as recorded)` : `is ${actual}, recorded ${expected}: the archive file changed`,
      });
    } else
      checks.push({ name: 'archive sha256', ok: true, detail: 'no recorded checksum (not in the catalog, no .sha256 file); relying on age and zstd checks' });

    let dir: string;
    try {
      dir = await this.files.unpack(file, join(this.env.BACKUP_DIR), this.env.BACKUP_AGE_IDENTITY_FILE, (b) => progress('unpack', b, size));
      checks.push({
        name: file.endsWith('.age') ? 'decrypt (age), decompress (zstd), extract (tar)' : 'decompress (zstd), extract (tar)',
        ok: true,
        detail: 'ok',
      });
    } catch (err) {
      checks.push({
        name: file.endsWith('.age') ? 'decrypt (age), decompress (zstd), extract (tar)' : 'decompress (zstd), extract (tar)',
        ok: false,
        detail: (err as Error).message,
      });
      await this.recordOutcome(row, checks);
      return result(null, null);
    }
    let manifest: BackupManifest | null = null;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
      const known = manifest.format <= MANIFEST_FORMAT;
      checks.push({
        name: 'manifest',
        ok: known,
        detail: known
          ? `format ${manifest.format}, ${manifest.artifacts.length} artifacts`
          : `format ${manifest.format} is newer than this release reads (${MANIFEST_FORMAT})`,
      });
    } catch (err) {
      checks.push({ name: 'manifest', ok: false, detail: `manifest.json is missing or unreadable: ${(err as Error).message}` });
    }
    if (manifest && checks.every((c) => c.ok)) await this.checkArtifacts(dir, manifest, checks, progress);
    if (manifest?.base && checks.every((c) => c.ok) && opts.walChain !== false) await this.checkWalChain(manifest, checks, progress);
    await this.recordOutcome(row, checks);
    if (!checks.every((c) => c.ok)) await this.files.removeDir(dir);
    return result(manifest, dir);
  }

  private async checkArtifacts(dir: string, manifest: BackupManifest, checks: VerifyCheck[], progress: Progress): Promise<void> {
    const total = manifest.artifacts.reduce((n, a) => n + a.sizeBytes, 0);
    let before = 0;
    for (const a of manifest.artifacts) {
      const path = join(dir, a.path);
      const size = await stat(path).then(
        (s) => s.size,
        () => -1,
      );
      const sha = size >= 0 ? await sha256File(path, (b) => progress('artifacts', before + b, total)) : '';
      before += Math.max(size, 0);
      const ok = size === a.sizeBytes && sha === a.sha256;
      checks.push({
        name: `artifact ${a.path}`,
        ok,
        detail: ok
          ? 'size and sha256 match'
          : size < 0
            ? 'missing from the archive'
            : `size ${size} (manifest ${a.sizeBytes}), sha256 ${sha} (manifest ${a.sha256})`,
      });
    }
    if (!checks.every((c) => c.ok)) return;
    const tool = async (name: string, fn: () => Promise<string>) => {
      try {
        checks.push({ name, ok: true, detail: await fn() });
      } catch (err) {
        checks.push({ name, ok: false, detail: (err as Error).message });
      }
    };
    for (const a of manifest.artifacts) {
      const path = join(dir, a.path);
      if (a.kind === 'database') await tool(`pg_restore --list ${a.path}`, async () => `${await this.database.listDump(path)} entries`);
      if (a.kind === 'repository') await tool(`git bundle verify ${a.path}`, async () => (await this.repos.verifyBundle(path), 'complete'));
      if (a.kind === 'base' && a.path.endsWith('/base.tar') && manifest.base) {
        const major = serverMajor(manifest.base.serverVersion);
        // Extracted where a point-in-time restore takes it from, so it is read once.
        await tool(
          `pg_verifybackup ${a.path}`,
          async () => (
            await this.extractBase(dir, path),
            await this.base.verify(major, join(dir, 'base', 'data'), join(dir, 'base', 'backup_manifest')),
            'every file matches backup_manifest'
          ),
        );
      }
      if (a.kind === 'redis') await tool(`redis-check-rdb ${a.path}`, async () => (await this.redis.check(path), 'RDB looks OK'));
    }
  }

  private async extractBase(dir: string, tarFile: string): Promise<void> {
    await mkdir(join(dir, 'base', 'data'), { recursive: true, mode: 0o700 });
    await runTool('tar', ['-C', join(dir, 'base', 'data'), '-xf', tarFile, '--no-same-owner']);
  }

  // The WAL a base backup needs, from its first segment to the newest: every segment present,
  // each equal to its recorded sha256 and readable by age and zstd. Problems are named per segment.
  private async checkWalChain(manifest: BackupManifest, checks: VerifyCheck[], progress: Progress): Promise<void> {
    const base = manifest.base as NonNullable<BackupManifest['base']>;
    const { chain, problems, warnings } = await this.wal.check(base.startWal, base.walSegmentBytes, (done, total) => progress('wal', done, total, 'segments'));
    for (const p of problems) checks.push({ name: `WAL segment ${p.segment}`, ok: false, detail: p.problem });
    // One good copy still restores: a passing check that says so, for the operator to re-copy.
    for (const w of warnings)
      checks.push({ name: `WAL segment ${w.segment}`, ok: true, detail: `warning: one copy only, restore reads the other; ${w.problem}` });
    const consistent = chain.segments.includes(base.endWal);
    if (!consistent && !problems.some((p) => p.segment === base.endWal)) {
      checks.push({
        name: `WAL segment ${base.endWal}`,
        ok: false,
        detail: `the base backup ends in it and it is not in ${this.wal.dirs.join(' or ')}: the backup cannot be made consistent`,
      });
    }
    if (problems.length === 0 && consistent) {
      const last = chain.segments[chain.segments.length - 1];
      checks.push({
        name: 'WAL chain',
        ok: true,
        detail: `${chain.segments.length} segments from ${base.startWal} to ${last}, each matching its sha256${warnings.length ? ` (${warnings.length} in one copy only)` : ''}`,
      });
    }
  }

  private async recordOutcome(row: BackupEntity | null, checks: VerifyCheck[]): Promise<void> {
    if (!row) return;
    const failed = checks.find((c) => !c.ok);
    await this.catalog.recordVerify(row.id, !failed, failed ? `${failed.name}: ${failed.detail}` : '');
  }
}

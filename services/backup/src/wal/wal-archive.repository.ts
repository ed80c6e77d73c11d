import { Inject, Injectable, Logger } from '@nestjs/common';
import { readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../archive/archive-file.repository';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { runPipeline } from '../tools/run-tool';
import { parseSegment, walChain, type WalChain } from './wal-segment';

const STORED = /^([0-9A-F]{24})\.zst(\.age)?$/;

export interface SegmentProblem {
  segment: string;
  problem: string;
}

// One segment as found in the archive directories, primary first.
export interface SegmentCopy {
  dir: string;
  name: string;
}

export interface SegmentRead {
  segment: string;
  // The directory whose copy was good (and, given `out`, written there); null = no good copy.
  usedDir: string | null;
  // Each copy that is missing or failed its checks, with its directory.
  damaged: string[];
}

// The WAL archive that PostgreSQL's archive_command (deploy/scripts/wal-archive.sh) fills:
// `<segment>.zst[.age]` beside a `.sha256` sidecar, in the WAL dir and, when configured, the same
// again in the copy dir on another disk. Read here to check the chain, to hand plaintext segments
// to a replaying cluster (from the first good copy), and to drop what no kept base backup needs.
@Injectable()
export class WalArchiveRepository {
  private readonly log = new Logger(WalArchiveRepository.name);

  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  get dir(): string {
    return this.env.BACKUP_WAL_DIR ?? join(this.env.BACKUP_DIR, 'wal');
  }

  // The primary first, then the copy: a read falls back in this order.
  get dirs(): string[] {
    return this.env.BACKUP_WAL_COPY_DIR ? [this.dir, this.env.BACKUP_WAL_COPY_DIR] : [this.dir];
  }

  // Segment name → its copies, primary first; a segment in either directory counts as archived.
  async stored(): Promise<Map<string, SegmentCopy[]>> {
    const out = new Map<string, SegmentCopy[]>();
    for (const dir of this.dirs) {
      for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
        const m = STORED.exec(name);
        if (m) out.set(m[1], [...(out.get(m[1]) ?? []), { dir, name }]);
      }
    }
    return out;
  }

  async chain(startWal: string, segmentBytes: number): Promise<WalChain> {
    return walChain([...(await this.stored()).keys()], startWal, segmentBytes);
  }

  // Checks one stored copy against its sidecar, then decrypts and decompresses it (age's
  // authentication and zstd's checksum catch any changed byte); `out` receives the plaintext.
  private async openCopy(copy: SegmentCopy, out?: string): Promise<string | null> {
    const file = join(copy.dir, copy.name);
    const sidecar = await readFile(`${file}.sha256`, 'utf8').catch(() => null);
    if (sidecar === null) return `${copy.name}.sha256 is missing: the segment cannot be checked`;
    const expected = /^([0-9a-f]{64}) {2}/.exec(sidecar)?.[1];
    const actual = await sha256File(file);
    if (actual !== expected) return `sha256 ${actual} differs from ${expected ?? 'an unreadable'} sidecar: the stored segment was changed or damaged`;
    const encrypted = copy.name.endsWith('.age');
    if (encrypted && !this.env.BACKUP_AGE_IDENTITY_FILE) return 'the segment is encrypted and no BACKUP_AGE_IDENTITY_FILE is configured';
    const decrypt = encrypted ? 'age -d -i "$2" < "$1"' : 'cat < "$1"';
    const sink = out ? 'zstd -q -d > "$3"' : 'zstd -q -t';
    try {
      await runPipeline(encrypted ? 'age -d | zstd -d' : 'zstd -d', `${decrypt} | ${sink}`, [file, this.env.BACKUP_AGE_IDENTITY_FILE ?? '', out ?? '']);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  // Reads a segment from the primary and falls back to the copy when it is missing or damaged
  // there. `every` checks all copies even after a good one (verify wants to hear of a bad copy
  // before the day it is needed); a restore stops at the first good one.
  async read(segment: string, copies: SegmentCopy[] | undefined, opts: { out?: string; every?: boolean } = {}): Promise<SegmentRead> {
    const result: SegmentRead = { segment, usedDir: null, damaged: [] };
    const where = (dir: string) => (this.dirs.length > 1 ? `${dir === this.dir ? 'primary' : 'copy'} ${dir}: ` : '');
    for (const dir of this.dirs) {
      const copy = copies?.find((c) => c.dir === dir);
      if (result.usedDir && !opts.every) break;
      const problem = copy ? await this.openCopy(copy, result.usedDir ? undefined : opts.out) : `missing from ${dir}`;
      if (problem) result.damaged.push(`${where(dir)}${problem}`);
      else result.usedDir ??= dir;
    }
    if (result.usedDir && result.usedDir !== this.dir)
      this.log.warn(`WAL segment ${segment} read from the copy in ${result.usedDir}: ${result.damaged.join('; ')}`);
    return result;
  }

  // Every segment from `startWal` to the newest: gaps, and segments with no good copy, are
  // problems; a segment bad in one directory but good in the other is a warning.
  async check(
    startWal: string,
    segmentBytes: number,
    onSegment?: (done: number, total: number) => void,
  ): Promise<{ chain: WalChain; problems: SegmentProblem[]; warnings: SegmentProblem[] }> {
    const stored = await this.stored();
    const chain = walChain([...stored.keys()], startWal, segmentBytes);
    const problems: SegmentProblem[] = chain.missing.map((segment) => ({
      segment,
      problem: 'missing from the WAL archive (a gap: later WAL cannot be replayed)',
    }));
    const warnings: SegmentProblem[] = [];
    let done = 0;
    for (const segment of chain.segments) {
      const read = await this.read(segment, stored.get(segment), { every: true });
      const problem = { segment, problem: read.damaged.join('; ') };
      if (!read.usedDir) problems.push(problem);
      else if (read.damaged.length > 0) warnings.push(problem);
      onSegment?.(++done, chain.segments.length);
    }
    return { chain, problems, warnings };
  }

  // Removes segments (and sidecars) older than `keepFrom`, the start of the oldest kept base
  // backup, from every directory; returns how many segments went.
  async pruneBefore(keepFrom: string, segmentBytes: number): Promise<number> {
    const limit = parseSegment(keepFrom, segmentBytes);
    if (!limit) return 0;
    let removed = 0;
    for (const [segment, copies] of await this.stored()) {
      const s = parseSegment(segment, segmentBytes);
      if (!s || s.number >= limit.number || s.timeline > limit.timeline) continue;
      for (const copy of copies) {
        await unlink(join(copy.dir, copy.name)).catch(() => undefined);
        await unlink(join(copy.dir, `${copy.name}.sha256`)).catch(() => undefined);
      }
      removed += 1;
    }
    return removed;
  }
}

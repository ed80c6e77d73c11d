import { Inject, Injectable } from '@nestjs/common';
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

// The WAL archive that PostgreSQL's archive_command (deploy/scripts/wal-archive.sh) fills:
// `<segment>.zst[.age]` beside a `.sha256` sidecar. Read here to check the chain, to hand
// plaintext segments to a replaying cluster, and to drop what no kept base backup needs.
@Injectable()
export class WalArchiveRepository {
  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  get dir(): string {
    return this.env.BACKUP_WAL_DIR ?? join(this.env.BACKUP_DIR, 'wal');
  }

  // Segment name → stored file name.
  async stored(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const name of (await readdir(this.dir).catch(() => [] as string[])).sort()) {
      const m = STORED.exec(name);
      if (m) out.set(m[1], name);
    }
    return out;
  }

  async chain(startWal: string, segmentBytes: number): Promise<WalChain> {
    return walChain([...(await this.stored()).keys()], startWal, segmentBytes);
  }

  // Checks one stored segment against its sidecar, then decrypts and decompresses it (age's
  // authentication and zstd's checksum catch any changed byte); `out` receives the plaintext.
  async open(segment: string, storedName: string, out?: string): Promise<SegmentProblem | null> {
    const file = join(this.dir, storedName);
    const sidecar = await readFile(`${file}.sha256`, 'utf8').catch(() => null);
    if (sidecar === null) return { segment, problem: `${storedName}.sha256 is missing: the segment cannot be checked` };
    const expected = /^([0-9a-f]{64}) {2}/.exec(sidecar)?.[1];
    const actual = await sha256File(file);
    if (actual !== expected) return { segment, problem: `sha256 ${actual} differs from ${expected ?? 'an unreadable'} sidecar: the stored segment was changed or damaged` };
    const encrypted = storedName.endsWith('.age');
    if (encrypted && !this.env.BACKUP_AGE_IDENTITY_FILE) return { segment, problem: 'the segment is encrypted and no BACKUP_AGE_IDENTITY_FILE is configured' };
    const decrypt = encrypted ? 'age -d -i "$2" < "$1"' : 'cat < "$1"';
    const sink = out ? 'zstd -q -d > "$3"' : 'zstd -q -t';
    try {
      await runPipeline(encrypted ? 'age -d | zstd -d' : 'zstd -d', `${decrypt} | ${sink}`, [file, this.env.BACKUP_AGE_IDENTITY_FILE ?? '', out ?? '']);
      return null;
    } catch (err) {
      return { segment, problem: (err as Error).message };
    }
  }

  // Every segment from `startWal` to the newest: gaps, missing sidecars, changed bytes, each named.
  async check(startWal: string, segmentBytes: number, onSegment?: (done: number, total: number) => void): Promise<{ chain: WalChain; problems: SegmentProblem[] }> {
    const stored = await this.stored();
    const chain = walChain([...stored.keys()], startWal, segmentBytes);
    const problems: SegmentProblem[] = chain.missing.map((segment) => ({ segment, problem: 'missing from the WAL archive (a gap: later WAL cannot be replayed)' }));
    let done = 0;
    for (const segment of chain.segments) {
      const problem = await this.open(segment, stored.get(segment) as string);
      if (problem) problems.push(problem);
      onSegment?.(++done, chain.segments.length);
    }
    return { chain, problems };
  }

  // Removes segments (and sidecars) older than `keepFrom`, the start of the oldest kept base backup.
  async pruneBefore(keepFrom: string, segmentBytes: number): Promise<number> {
    const limit = parseSegment(keepFrom, segmentBytes);
    if (!limit) return 0;
    let removed = 0;
    for (const [segment, storedName] of await this.stored()) {
      const s = parseSegment(segment, segmentBytes);
      if (!s || s.number >= limit.number || s.timeline > limit.timeline) continue;
      await unlink(join(this.dir, storedName)).catch(() => undefined);
      await unlink(join(this.dir, `${storedName}.sha256`)).catch(() => undefined);
      removed += 1;
    }
    return removed;
  }
}

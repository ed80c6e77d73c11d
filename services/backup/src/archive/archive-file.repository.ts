import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { runPipeline, runTool } from '../tools/run-tool';
import { ARCHIVE_NAME } from './archive-name';

export const PARTIAL_SUFFIX = '.partial';
const STAGING_PREFIX = '.staging-';

// `onBytes` hears the running count, for progress.
export async function sha256File(file: string, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    onBytes?.((bytes += (chunk as Buffer).length));
  }
  return hash.digest('hex');
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// The archive files: tar | zstd | age into `<name>.partial`, fsynced and renamed only when whole
// (so a crash or a full disk never leaves a file with a final name), a `sha256sum` sidecar, the
// second copy, and the way back out (age -d | zstd -d | tar -x).
@Injectable()
export class ArchiveFileRepository {
  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  async makeStaging(id: string): Promise<string> {
    await mkdir(this.env.BACKUP_DIR, { recursive: true });
    return mkdtemp(join(this.env.BACKUP_DIR, `${STAGING_PREFIX}${id.slice(0, 8)}-`));
  }

  async removeDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  // Everything a running backup has written so far: its staging folder and its partial archive.
  async bytesWritten(staging: string | undefined, fileName: string): Promise<number> {
    const partial = await stat(`${this.pathOf(fileName)}${PARTIAL_SUFFIX}`).then(
      (s) => s.size,
      () => 0,
    );
    return partial + (staging ? await this.treeSize(staging) : 0);
  }

  private async treeSize(dir: string): Promise<number> {
    let total = 0;
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) total += await this.treeSize(path);
      else
        total += await stat(path).then(
          (s) => s.size,
          () => 0,
        );
    }
    return total;
  }

  async sizeOf(file: string): Promise<number> {
    return (await stat(file)).size;
  }

  pathOf(name: string): string {
    return join(this.env.BACKUP_DIR, name);
  }

  // `entries` are paths inside staging, manifest.json first so `tar -t | head -1` finds it.
  async pack(staging: string, entries: string[], name: string, recipients: string[]): Promise<{ path: string; sha256: string; sizeBytes: number }> {
    const final = this.pathOf(name);
    const partial = `${final}${PARTIAL_SUFFIX}`;
    const script = `staging=$1; out=$2; n=$3; shift 3
recipients=(); for ((i = 0; i < n; i++)); do recipients+=(-r "$1"); shift; done
tar -C "$staging" -cf - -- "$@" | zstd -q -3 -T0 | if [ "$n" -gt 0 ]; then age "\${recipients[@]}"; else cat; fi > "$out"`;
    try {
      await runPipeline('tar | zstd | age', script, [staging, partial, String(recipients.length), ...recipients, ...entries]);
      await fsyncFile(partial);
      const sha256 = await sha256File(partial);
      const sizeBytes = await this.sizeOf(partial);
      await rename(partial, final);
      await writeFile(`${final}.sha256`, `${sha256}  ${name}\n`);
      return { path: final, sha256, sizeBytes };
    } catch (err) {
      await unlink(partial).catch(() => undefined);
      throw err;
    }
  }

  // The second copy, checked against the first's sha256 before it takes its final name.
  async copyTo(dir: string, source: string, sha256: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const target = join(dir, basename(source));
    const partial = `${target}${PARTIAL_SUFFIX}`;
    try {
      await copyFile(source, partial);
      await fsyncFile(partial);
      if ((await sha256File(partial)) !== sha256) throw new Error(`the copy in ${dir} does not match the archive's sha256`);
      await rename(partial, target);
      await writeFile(`${target}.sha256`, `${sha256}  ${basename(source)}\n`);
      return target;
    } catch (err) {
      await unlink(partial).catch(() => undefined);
      throw err;
    }
  }

  // Decrypts (when encrypted), decompresses and extracts into a new folder under `parent`.
  // The archive is fed from here, so `onBytes` can report how much of it has been read.
  async unpack(file: string, parent: string, identityFile?: string, onBytes?: (bytes: number) => void): Promise<string> {
    await mkdir(parent, { recursive: true });
    const dir = await mkdtemp(join(parent, `${STAGING_PREFIX}open-`));
    const encrypted = file.endsWith('.age');
    if (encrypted && !identityFile) throw new Error('the archive is encrypted and no BACKUP_AGE_IDENTITY_FILE is configured');
    const decrypt = encrypted ? 'age -d -i "$2"' : 'cat';
    await runPipeline(
      encrypted ? 'age -d | zstd -d | tar -x' : 'zstd -d | tar -x',
      `${decrypt} | zstd -q -d | tar -C "$1" -xf - --no-same-owner`,
      [dir, identityFile ?? ''],
      {
        inputFile: file,
        onInput: onBytes,
      },
    );
    return dir;
  }

  async readManifestOnly(file: string, identityFile?: string): Promise<string> {
    const encrypted = file.endsWith('.age');
    const decrypt = encrypted ? 'age -d -i "$2" < "$1"' : 'cat < "$1"';
    const { stdout } = await runPipeline('read manifest', `${decrypt} | zstd -q -d | tar -xOf - manifest.json`, [file, identityFile ?? '']);
    return stdout;
  }

  async listArchives(dir: string): Promise<string[]> {
    return (await readdir(dir).catch(() => [] as string[])).filter((n) => ARCHIVE_NAME.test(n)).sort();
  }

  async remove(file: string): Promise<void> {
    await unlink(file).catch(() => undefined);
    await unlink(`${file}.sha256`).catch(() => undefined);
  }

  // What a crash left: partial archives and staging folders (only called when no backup runs here).
  async removeLeftovers(olderThanMs: number): Promise<string[]> {
    const removed: string[] = [];
    for (const dir of [this.env.BACKUP_DIR, this.env.BACKUP_COPY_DIR].filter((d): d is string => !!d)) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (!name.endsWith(PARTIAL_SUFFIX) && !name.startsWith(STAGING_PREFIX)) continue;
        const info = await stat(join(dir, name)).catch(() => null);
        if (!info || Date.now() - info.mtimeMs < olderThanMs) continue;
        await rm(join(dir, name), { recursive: true, force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  private versions: Promise<Record<string, string>> | undefined;

  // Asked once per process: the tools do not change under a running service.
  toolVersions(): Promise<Record<string, string>> {
    this.versions ??= this.probeVersions();
    return this.versions;
  }

  private async probeVersions(): Promise<Record<string, string>> {
    const versions: Record<string, string> = {};
    const probes: [string, string, string[]][] = [
      ['pg_dump', 'pg_dump', ['--version']],
      ['git', 'git', ['--version']],
      ['age', 'age', ['--version']],
      ['zstd', 'zstd', ['-V']],
      ['tar', 'tar', ['--version']],
      ['redis', 'redis-server', ['--version']],
    ];
    for (const [name, cmd, args] of probes) {
      versions[name] = await runTool(cmd, args).then(
        (r) => (r.stdout || r.stderr).split('\n')[0].trim(),
        () => 'unavailable',
      );
    }
    return versions;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';

// Written into .git/overskill/ when a repository is created: never committed, never pushed,
// out of the agent's reach (tool-runner refuses .git), and what cleanup reads.
export interface RepoMarker {
  appId: string;
  createdAt: string;
  source: string;
}

export interface VolumeEntry {
  name: string;
  path: string;
}

const TEMP_PREFIX = '.overskill-tmp-';

// The workspace volume as folders: where an app's repository lives, markers, the temporary
// folders new repositories are built in, sizes and removal.
@Injectable()
export class WorkspaceVolumeRepository {
  constructor(@Inject(GIT_SERVICE_ENV) private readonly env: GitServiceEnv) {}

  repoDir(appId: string): string {
    return join(this.env.WORKSPACES_DIR, appId);
  }

  // Every operation asks first: a stat of a few µs, synchronous like the ref reads (a trip
  // through libuv's thread pool and a promise costs far more than the syscall).
  async hasRepo(appId: string): Promise<boolean> {
    try {
      return statSync(join(this.repoDir(appId), '.git')).isDirectory();
    } catch {
      return false;
    }
  }

  // A folder on the same volume, so the finished repository moves into place with one rename.
  async makeTempDir(appId: string): Promise<string> {
    const dir = join(this.env.WORKSPACES_DIR, `${TEMP_PREFIX}${appId}-${randomBytes(4).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  // Moves a finished repository into place. An empty leftover folder is replaced; anything
  // else there is never overwritten.
  async moveIntoPlace(tempDir: string, appId: string): Promise<boolean> {
    const target = this.repoDir(appId);
    await rmdir(target).catch(() => undefined);
    try {
      await rename(tempDir, target);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async writeMarker(dir: string, marker: RepoMarker): Promise<void> {
    await mkdir(join(dir, '.git', 'overskill'), { recursive: true });
    await writeFile(join(dir, '.git', 'overskill', 'app.json'), `${JSON.stringify(marker)}\n`);
  }

  async readMarker(dir: string): Promise<RepoMarker | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, '.git', 'overskill', 'app.json'), 'utf8')) as RepoMarker;
    } catch {
      return undefined;
    }
  }

  async writeFiles(dir: string, files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const absolute = join(dir, path);
      await mkdir(join(absolute, '..'), { recursive: true });
      await writeFile(absolute, content);
    }
  }

  // Every folder on the volume: app folders by id, and temporary ones an interrupted init or
  // clone left behind.
  async list(): Promise<{ apps: VolumeEntry[]; temps: VolumeEntry[] }> {
    const entries = await readdir(this.env.WORKSPACES_DIR, { withFileTypes: true }).catch(() => []);
    const dirs = entries.filter((e) => e.isDirectory()).map((e) => ({ name: e.name, path: join(this.env.WORKSPACES_DIR, e.name) }));
    return { apps: dirs.filter((d) => !d.name.startsWith('.')), temps: dirs.filter((d) => d.name.startsWith(TEMP_PREFIX)) };
  }

  // When the repository last changed: a commit, a checkout, a staged file, its creation.
  async lastActivityMs(dir: string): Promise<number> {
    const probes = ['.', '.git', '.git/HEAD', '.git/index', '.git/logs/HEAD', '.git/refs/heads', '.git/overskill/app.json'];
    let latest = 0;
    for (const probe of probes) {
      const info = await lstat(join(dir, probe)).catch(() => undefined);
      if (info) latest = Math.max(latest, info.mtimeMs);
    }
    return latest;
  }

  async sizeBytes(dir: string): Promise<number> {
    let total = 0;
    const visit = async (path: string): Promise<void> => {
      const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) await visit(child);
        else total += (await lstat(child).catch(() => undefined))?.size ?? 0;
      }
    };
    await visit(dir);
    return total;
  }

  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }
}

import { Injectable } from '@nestjs/common';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface GitLockFile {
  // Relative to the repository's .git folder (index.lock, refs/heads/main.lock).
  name: string;
  path: string;
  ageMs: number;
}

// Lock files git leaves when it dies mid-command, and the git processes that could own them.
@Injectable()
export class GitLockFilesRepository {
  // Before every write. Synchronous: a few small folders, each listed in a syscall of µs, where
  // fs/promises cost ~0.3 ms of CPU in libuv's thread pool for the same listing.
  async list(repoDir: string): Promise<GitLockFile[]> {
    const gitDir = join(repoDir, '.git');
    const found: GitLockFile[] = [];
    const now = Date.now();
    const visit = (dir: string, recurse: boolean): void => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory() && recurse) visit(path, true);
        else if (entry.isFile() && entry.name.endsWith('.lock')) {
          const info = statOrUndefined(path);
          if (info) found.push({ name: relative(gitDir, path), path, ageMs: now - info.mtimeMs });
        }
      }
    };
    visit(gitDir, false);
    visit(join(gitDir, 'refs'), true);
    return found;
  }

  // Linux: git processes on this machine working in the repository (their cwd is inside it).
  // Processes of other users or on other hosts are invisible here; the lock's age covers them.
  async gitProcessesIn(repoDir: string): Promise<number[]> {
    let root: string;
    let pids: string[];
    try {
      root = await realpath(repoDir);
      pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
    } catch {
      return [];
    }
    const holders: number[] = [];
    for (const pid of pids) {
      try {
        const cwd = await readlink(`/proc/${pid}/cwd`);
        if (cwd !== root && !cwd.startsWith(`${root}/`)) continue;
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
        if (comm.startsWith('git')) holders.push(Number(pid));
      } catch {
        // gone, or not ours to inspect
      }
    }
    return holders;
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

// A lock file can go between the listing and the stat (its git process finished).
function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

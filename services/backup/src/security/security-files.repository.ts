import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runTool } from '../tools/run-tool';

const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
// Folders whose files are not the app's own: history is read through git, packages are not the app's code.
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

export interface PathMode {
  mode: number;
  isDirectory: boolean;
}

// What the audit reads from disk: modes, text files, log files and commit history, never writing.
@Injectable()
export class SecurityFilesRepository {
  async mode(path: string): Promise<PathMode | undefined> {
    const s = await stat(path).catch(() => undefined);
    return s ? { mode: s.mode & 0o7777, isDirectory: s.isDirectory() } : undefined;
  }

  // Text files under `dir` (relative paths), skipping .git, node_modules, binaries and files over maxBytes.
  async *textFiles(dir: string, maxBytes: number): AsyncGenerator<{ path: string; text: string }> {
    const pending = [dir];
    while (pending.length > 0) {
      const current = pending.pop() as string;
      const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = join(current, entry.name);
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) pending.push(full);
          continue;
        }
        if (!entry.isFile()) continue;
        const text = await readText(full, maxBytes);
        if (text !== undefined) yield { path: relative(dir, full), text };
      }
    }
  }

  // Added lines of every commit on every ref: `git log -p` with no context lines.
  async commitPatches(repoDir: string): Promise<string> {
    const { stdout } = await runTool('git', ['log', '--all', '-p', '--no-color', '--no-ext-diff', '--unified=0', '--format=%x00commit %H'], {
      cwd: repoDir,
      env: GIT_ENV,
      label: 'git log',
    });
    return stdout;
  }

  // sha256 of a settings file; undefined when it is missing.
  async contentHash(path: string): Promise<string | undefined> {
    const data = await readFile(path).catch(() => undefined);
    return data ? createHash('sha256').update(data).digest('hex') : undefined;
  }

  readTextFile(path: string, maxBytes: number): Promise<string | undefined> {
    return readText(path, maxBytes);
  }

  async isDirectory(path: string): Promise<boolean> {
    return (await this.mode(path))?.isDirectory ?? false;
  }
}

async function readText(path: string, maxBytes: number): Promise<string | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) return undefined;
    const data = await handle.readFile();
    // A NUL in the first 8 KB: binary (images, archives), not something a key is pasted into.
    if (data.subarray(0, 8192).includes(0)) return undefined;
    return data.toString('utf8');
  } finally {
    await handle.close();
  }
}

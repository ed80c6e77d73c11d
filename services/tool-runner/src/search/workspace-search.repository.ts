import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, read, readdirSync, readSync, type Dirent } from 'node:fs';
import { promisify } from 'node:util';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import {
  entryPath,
  isInside,
  openDirectory,
  pinned,
  PROC_FD,
  READ_FLAGS,
  SYNC_READ_MAX_BYTES,
  whereIs,
  type PinnedDirectory,
} from '../workspace/pinned-directory';
import { ALWAYS_EXCLUDED_FOLDERS, fileIsSearched, folderIsSearched, type PathFilter } from './compile-glob';
import type { LineMatcher } from './line-matcher';

export type SearchEngineName = 'ripgrep' | 'javascript';

export interface FileSearchQuery {
  root: string;
  // Folder to search, relative to root ('.' = everything).
  folder: string;
  pattern: string;
  fixedStrings: boolean;
  caseSensitive: boolean;
  include: readonly string[];
  exclude: readonly string[];
  filter: PathFilter;
  matcher: LineMatcher;
  maxFileBytes: number;
}

export interface FileSearchResult {
  // Paths relative to root, sorted.
  files: string[];
  engine: SearchEngineName;
}

const RG_FAILURE = /regex parse error|error parsing|unrecognized|PCRE2/i;
const readAsync = promisify(read);
// ripgrep's first read: a NUL byte in it makes the file binary, so it is skipped.
const BINARY_PROBE_BYTES = 64 * 1024;

// Which files have at least one matching line. ripgrep when it is installed (TOOL_SEARCH_ENGINE
// auto or ripgrep); otherwise, or when ripgrep cannot read the pattern, a JavaScript walk that
// picks the same files: same globs, same folders skipped, links never followed, binary files
// (a NUL byte in the first 64 KB) and files over the size limit skipped.
@Injectable()
export class WorkspaceSearchRepository {
  private readonly ripgrep: string | undefined;

  constructor(@Inject(TOOL_RUNNER_ENV) env: Pick<ToolRunnerEnv, 'TOOL_SEARCH_ENGINE'>) {
    this.ripgrep = env.TOOL_SEARCH_ENGINE === 'javascript' ? undefined : findRipgrep();
    if (env.TOOL_SEARCH_ENGINE === 'ripgrep' && !this.ripgrep) throw new Error('TOOL_SEARCH_ENGINE=ripgrep but `rg` is not on PATH');
  }

  async filesWithMatches(query: FileSearchQuery): Promise<FileSearchResult> {
    if (this.ripgrep) {
      const files = await this.withRipgrep(this.ripgrep, query);
      if (files) return { files, engine: 'ripgrep' };
    }
    return { files: await this.withJavaScript(query), engine: 'javascript' };
  }

  // undefined: ripgrep could not take the pattern (a JavaScript-only construct); the caller falls back.
  private async withRipgrep(rg: string, query: FileSearchQuery): Promise<string[] | undefined> {
    const folder = this.checkFolder(query);
    folder.dir.close();
    const args = [
      '--no-config',
      '--files-with-matches',
      '--null',
      '--hidden',
      '--no-ignore',
      '--no-messages',
      '--crlf',
      '--auto-hybrid-regex',
      '--max-filesize',
      String(query.maxFileBytes),
    ];
    args.push(query.caseSensitive ? '--case-sensitive' : '--ignore-case');
    if (query.fixedStrings) args.push('--fixed-strings');
    // Later globs win in ripgrep: includes, then excludes, so an exclude beats an include.
    for (const glob of query.include) args.push('--glob', glob);
    for (const glob of [...query.exclude, ...ALWAYS_EXCLUDED_FOLDERS]) args.push('--glob', `!${glob}`);
    args.push('--regexp', query.pattern, '--', query.folder === '.' ? '.' : `./${query.folder}`);

    const { code, stdout, stderr } = await run(rg, args, folder.realRoot);
    if (code === 2 && RG_FAILURE.test(stderr)) return undefined;
    if (code !== 0 && code !== 1 && code !== 2) throw new Error(`ripgrep exited with ${code}: ${stderr.slice(0, 500)}`);
    return stdout
      .split('\0')
      .filter(Boolean)
      .map((p) => p.replace(/^\.\//, ''))
      .sort(byPath);
  }

  private checkFolder(query: FileSearchQuery): { dir: PinnedDirectory; realRoot: string } {
    return openDirectory(query.root, query.folder === '.' ? [] : query.folder.split('/'), { create: false, shown: query.folder });
  }

  private async withJavaScript(query: FileSearchQuery): Promise<string[]> {
    const { dir: start, realRoot } = this.checkFolder(query);
    const found: string[] = [];
    let sinceYield = 0;
    // Folders are walked through descriptors (never following links) and every file opened with
    // O_NOFOLLOW from its pinned folder, as the other workspace reads are.
    const walk = async (dir: PinnedDirectory, relative: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = readdirSync(`${PROC_FD}/${dir.fd}`, { withFileTypes: true });
      } catch {
        return;
      }
      entries.sort((a, b) => byPath(a.name, b.name));
      for (const entry of entries) {
        const path = relative === '.' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) {
          if (!folderIsSearched(query.filter, path)) continue;
          const child = openChildFolder(dir, entry.name, realRoot);
          if (!child) continue;
          try {
            await walk(child, path);
          } finally {
            child.close();
          }
        } else if (entry.isFile() && fileIsSearched(query.filter, path)) {
          const text = await readCandidate(dir, entry.name, query.maxFileBytes);
          if (text !== undefined && query.matcher.hasMatch(text)) found.push(path);
          // The walk reads the whole tree: let other calls run in between.
          if (++sinceYield >= 32) {
            sinceYield = 0;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      }
    };
    try {
      await walk(start, query.folder);
    } finally {
      start.close();
    }
    return found.sort(byPath);
  }
}

function openChildFolder(dir: PinnedDirectory, name: string, realRoot: string): PinnedDirectory | undefined {
  let fd: number;
  try {
    fd = openSync(entryPath(dir, name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const real = whereIs(fd);
  if (!isInside(realRoot, real)) {
    closeSync(fd);
    return undefined;
  }
  return pinned(fd, real, realRoot);
}

// The file's text when it is a searchable regular file, else undefined.
async function readCandidate(dir: PinnedDirectory, name: string, maxBytes: number): Promise<string | undefined> {
  let fd: number;
  try {
    fd = openSync(entryPath(dir, name), READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > maxBytes) return undefined;
    const buffer = Buffer.alloc(info.size);
    let offset = 0;
    while (offset < buffer.length) {
      const want = buffer.length - offset;
      const bytesRead =
        info.size <= SYNC_READ_MAX_BYTES ? readSync(fd, buffer, offset, want, offset) : (await readAsync(fd, buffer, offset, want, offset)).bytesRead;
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    const content = buffer.subarray(0, offset);
    if (content.subarray(0, BINARY_PROBE_BYTES).includes(0)) return undefined;
    return content.toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function findRipgrep(): string | undefined {
  const found = spawnSync('rg', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'rg' : undefined;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => reject(new AppError(ErrorCode.INTERNAL, `ripgrep could not run: ${error.message}`)));
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

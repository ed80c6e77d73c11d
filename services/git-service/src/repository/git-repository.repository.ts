import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitCli, GitCommandError } from '../git/git-cli';
import type { Identity } from '../git/identity';
import { parseRawNumstat, splitPatch, type ParsedFileDiff } from '../git/parse-git-diff';
import { LOG_FORMAT, parseGitLog, type ParsedCommit } from '../git/parse-git-log';
import { parseGitStatus, type ParsedStatus } from '../git/parse-git-status';
import { refNameProblem } from '../git/validate-ref-name';

export interface DiffSide {
  // A commit sha, or undefined for the working tree.
  sha?: string;
}

// git's empty tree: the "before" of a repository's first commit.
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

const BRANCH_REF = 'ref: refs/heads/';
// SHA-1 or SHA-256.
const FULL_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

// The sha of one ref in packed-refs ("<sha> <ref>" lines; "#" a header, "^" a peeled tag).
function packedRef(text: string, ref: string): string | undefined {
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0 && line[0] !== '#' && line[0] !== '^' && line.slice(space + 1).trimEnd() === ref) return line.slice(0, space);
  }
  return undefined;
}

// git's own estimate of when a repository needs `gc --auto`, with git's defaults: more loose
// objects in the objects/17 fan-out directory than gc.auto / 256 (6700), or more packs than
// gc.autoPackLimit (50).
const LOOSE_IN_17_MAX = Math.ceil(6700 / 256);
const PACKS_MAX = 50;

// How much of a listing one reply may carry: entries, and bytes of their paths.
export interface ReplyCap {
  limit: number;
  maxPathBytes: number;
}

// The first entries that fit the cap, counting `overhead` bytes per entry besides its path.
function capped<T>(entries: Iterable<T>, pathOf: (entry: T) => string, cap: ReplyCap, overhead: number): { kept: T[]; truncated: boolean } {
  const kept: T[] = [];
  let pathBytes = 0;
  for (const entry of entries) {
    pathBytes += Buffer.byteLength(pathOf(entry)) + overhead;
    if (kept.length === cap.limit || pathBytes > cap.maxPathBytes) return { kept, truncated: true };
    kept.push(entry);
  }
  return { kept, truncated: false };
}

// The files of `git ls-tree -r -l -z` output: "<mode> <type> <object> <size>\t<path>" records.
function* blobEntries(stdout: string): Generator<{ path: string; size: number }> {
  for (const record of stdout.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab === -1) continue;
    const [, type, , size] = record.slice(0, tab).split(/ +/);
    if (type === 'blob') yield { path: record.slice(tab + 1), size: Number(size) };
  }
}

// A file that does not exist is an answer (the fallback value); any other failure is not.
function missingAs<T>(value: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT') return value;
    throw err;
  };
}

// The same for a synchronous read: HEAD, a loose ref and the objects folders looked at after a
// commit are read this way, a few µs of syscalls where fs/promises' trips through libuv's thread
// pool cost ~0.35 ms of CPU for the same read. packed-refs can be large, and stays asynchronous.
function missingAsSync<T>(read: () => T, value: T): T {
  try {
    return read();
  } catch (err) {
    return missingAs(value)(err as NodeJS.ErrnoException);
  }
}

function authorEnv(author: Identity): Record<string, string> {
  return { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email };
}

// History of one repository: init, commit, log, status, diff, show, and the plumbing restore
// is built from. Every method takes the repository folder; revisions arrive validated.
@Injectable()
export class GitRepositoryRepository {
  constructor(private readonly git: GitCli) {}

  async init(dir: string, identity: Identity, message: string): Promise<string> {
    await this.git.run(dir, ['init', '-q', '--initial-branch=main']);
    await this.git.run(dir, ['config', 'user.name', identity.name]);
    await this.git.run(dir, ['config', 'user.email', identity.email]);
    await this.git.run(dir, ['add', '-A']);
    await this.git.run(dir, ['commit', '-q', '--no-verify', '--no-gpg-sign', '--allow-empty', '-m', message], { env: authorEnv(identity) });
    return this.head(dir);
  }

  async setIdentity(dir: string, identity: Identity): Promise<void> {
    await this.git.run(dir, ['config', 'user.name', identity.name]);
    await this.git.run(dir, ['config', 'user.email', identity.email]);
  }

  // Stages everything and commits; undefined when there was nothing to commit.
  async commitAll(dir: string, message: string, author: Identity): Promise<{ sha: string; filesChanged: number } | undefined> {
    await this.git.run(dir, ['add', '-A']);
    // core.abbrev=no: the summary line carries the full sha, one process fewer than rev-parse.
    // maintenance.auto=false: git would start `git maintenance run --auto` after every commit
    // (a third of the commit's CPU); maintainIfDue starts it only when it has work to do.
    const result = await this.git.run(dir, ['-c', 'core.abbrev=no', '-c', 'maintenance.auto=false', 'commit', '--no-verify', '--no-gpg-sign', '-m', message], {
      env: authorEnv(author),
      okExitCodes: [1],
    });
    if (result.exitCode === 1) {
      if (/nothing to commit|nothing added to commit|no changes added to commit/.test(result.stdout)) return undefined;
      throw new GitCommandError(1, result.stdout);
    }
    const filesChanged = Number(/(\d+) files? changed/.exec(result.stdout)?.[1] ?? 0);
    const sha = /^\[[^\n]*? ([0-9a-f]{40,64})\] /.exec(result.stdout)?.[1];
    // As after git's own commit, a failed maintenance is not the commit's: the next one tries again.
    await this.maintainIfDue(dir).catch(() => undefined);
    return { sha: sha ?? (await this.head(dir)), filesChanged };
  }

  // What git runs after a commit, when git's own estimate says it is due; its default task is
  // `gc --auto`, which packs the loose objects.
  private async maintainIfDue(dir: string): Promise<void> {
    const objects = join(dir, '.git', 'objects');
    const loose = missingAsSync(() => readdirSync(join(objects, '17')), [] as string[]).filter((name) => /^[0-9a-f]{38}$/.test(name));
    const files = new Set(missingAsSync(() => readdirSync(join(objects, 'pack')), [] as string[]));
    const packs = [...files].filter((name) => name.endsWith('.pack') && !files.has(`${name.slice(0, -'.pack'.length)}.keep`));
    if (loose.length <= LOOSE_IN_17_MAX && packs.length <= PACKS_MAX) return;
    await this.git.run(dir, ['maintenance', 'run', '--auto', '--quiet']);
  }

  async head(dir: string): Promise<string> {
    return (await this.readHead(dir)).sha;
  }

  // HEAD's commit, and its branch unless detached. Read from the files git keeps them in: this is
  // on the path of every run's start and of every turn that changed nothing, where a git process
  // costs ~2 ms of CPU and the read a few µs. Whatever the files do not answer plainly (a
  // symbolic ref chain, a reftable, an unborn branch) is left to git.
  async readHead(dir: string): Promise<{ sha: string; branch?: string }> {
    const read = await this.headFromFiles(join(dir, '.git')).catch(() => undefined);
    if (read) return read;
    return { sha: (await this.git.run(dir, ['rev-parse', 'HEAD'])).stdout.trim(), branch: await this.currentBranch(dir) };
  }

  private async headFromFiles(gitDir: string): Promise<{ sha: string; branch?: string } | undefined> {
    const head = missingAsSync(() => readFileSync(join(gitDir, 'HEAD'), 'utf8'), '').trim();
    if (FULL_SHA.test(head)) return { sha: head };
    if (!head.startsWith(BRANCH_REF)) return undefined;
    const branch = head.slice(BRANCH_REF.length);
    // The name becomes a path below: only what git itself accepts as a branch name.
    if (refNameProblem(branch)) return undefined;
    const loose = missingAsSync<string | undefined>(() => readFileSync(join(gitDir, 'refs', 'heads', branch), 'utf8'), undefined);
    // A ref is replaced by rename, so the file holds one whole sha or is absent (then packed).
    const sha =
      loose === undefined ? packedRef(await readFile(join(gitDir, 'packed-refs'), 'utf8').catch(missingAs('')), `refs/heads/${branch}`) : loose.trim();
    return sha && FULL_SHA.test(sha) ? { sha, branch } : undefined;
  }

  // The branch HEAD points at, or undefined when detached. Read from the file: it is on the
  // path of every commit, and a process spawn costs more than the read.
  async currentBranch(dir: string): Promise<string | undefined> {
    const head = readFileSync(join(dir, '.git', 'HEAD'), 'utf8').trim();
    return head.startsWith(BRANCH_REF) ? head.slice(BRANCH_REF.length) : undefined;
  }

  // The full sha of the commit a revision names, or undefined when there is none.
  async resolveCommit(dir: string, revision: string): Promise<string | undefined> {
    const result = await this.git.run(dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], { okExitCodes: [1, 128] });
    const sha = result.stdout.trim();
    return result.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
  }

  async treeOf(dir: string, commitSha: string): Promise<string> {
    return (await this.git.run(dir, ['rev-parse', `${commitSha}^{tree}`])).stdout.trim();
  }

  async firstParent(dir: string, commitSha: string): Promise<string | undefined> {
    const result = await this.git.run(dir, ['rev-parse', '--verify', '--quiet', `${commitSha}^1`], { okExitCodes: [1] });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  // From a sha, or from HEAD (no commit yet, as in a clone of an empty remote: no history).
  async log(dir: string, opts: { start: string; skip: number; limit: number; path?: string }): Promise<ParsedCommit[]> {
    const args = ['log', '-z', `--format=${LOG_FORMAT}`, `--skip=${opts.skip}`, `-n`, String(opts.limit), opts.start];
    if (opts.path) args.push('--', opts.path);
    const result = await this.git.run(dir, args, { okExitCodes: opts.start === 'HEAD' ? [128] : [] });
    if (result.exitCode === 0) return parseGitLog(result.stdout);
    if (/does not have any commits yet/.test(result.stderr)) return [];
    throw new GitCommandError(result.exitCode, result.stderr);
  }

  // Commits reachable from `head` but not from `base`, newest first.
  async commitsBetween(dir: string, base: string, head: string, limit: number): Promise<ParsedCommit[]> {
    return parseGitLog((await this.git.run(dir, ['log', '-z', `--format=${LOG_FORMAT}`, '-n', String(limit), head, `^${base}`])).stdout);
  }

  async countBetween(dir: string, base: string, head: string): Promise<{ ahead: number; behind: number }> {
    const [behind = '0', ahead = '0'] = (await this.git.run(dir, ['rev-list', '--left-right', '--count', `${base}...${head}`])).stdout.trim().split(/\s+/);
    return { ahead: Number(ahead), behind: Number(behind) };
  }

  async mergeBase(dir: string, a: string, b: string): Promise<string | undefined> {
    const result = await this.git.run(dir, ['merge-base', a, b], { okExitCodes: [1] });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async status(dir: string): Promise<ParsedStatus> {
    return parseGitStatus((await this.git.run(dir, ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all'])).stdout);
  }

  // Changes between two commits, or from a commit to the working tree (new files included).
  async diff(dir: string, from: string, to: DiffSide, opts: { path?: string; patch: boolean; maxPatchBytes: number }): Promise<ParsedFileDiff[]> {
    const pathArgs = opts.path ? ['--', opts.path] : [];
    const common = ['-M', '--no-color', '--no-ext-diff', '--no-textconv'];
    const run = async (env: Record<string, string>, sides: string[]) => {
      const files = parseRawNumstat((await this.git.run(dir, ['diff', ...common, '--raw', '--numstat', '-z', ...sides, ...pathArgs], { env })).stdout);
      if (!opts.patch) return files;
      const patches = splitPatch((await this.git.run(dir, ['diff', ...common, '--patch', ...sides, ...pathArgs], { env })).stdout);
      let budget = opts.maxPatchBytes;
      files.forEach((file, i) => {
        const patch = patches[i] ?? '';
        const bytes = Buffer.byteLength(patch);
        file.patch =
          bytes <= budget
            ? patch
            : Buffer.from(patch)
                .subarray(0, Math.max(budget, 0))
                .toString('utf8')
                .replace(/\uFFFD$/, '');
        file.patchTruncated = bytes > budget;
        budget -= Math.min(bytes, Math.max(budget, 0));
      });
      return files;
    };
    if (to.sha) return run({}, [from, to.sha]);
    // The working tree as git would commit it, staged in a throwaway index so the real index
    // (and its lock) is never touched by a read.
    const scratch = await mkdtemp(join(tmpdir(), 'overskill-diff-'));
    const index = join(scratch, 'index');
    try {
      await copyFile(join(dir, '.git', 'index'), index).catch(() => undefined);
      await this.git.run(dir, ['add', '-A'], { env: { GIT_INDEX_FILE: index } });
      return await run({ GIT_INDEX_FILE: index }, ['--cached', from]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  // The working tree's files as `git add -A` would stage them: tracked ones still on disk and
  // untracked ones git does not ignore, sorted. One process that reads no file's contents, where
  // a diff from the empty tree stages into a scratch index and counts every file's lines.
  async worktreeFiles(dir: string, cap: ReplyCap): Promise<{ paths: string[]; truncated: boolean }> {
    const { stdout } = await this.git.run(dir, ['ls-files', '-z', '-t', '--cached', '--others', '--deleted', '--exclude-standard']);
    const listed = new Set<string>();
    const deleted = new Set<string>();
    for (const record of stdout.split('\0')) {
      if (record.length < 3) continue;
      // "<tag> <path>": R is a tracked file gone from disk. An untracked repository inside the
      // tree is listed as "dir/"; git add stages it as "dir".
      const path = record.endsWith('/') ? record.slice(2, -1) : record.slice(2);
      (record[0] === 'R' ? deleted : listed).add(path);
    }
    const { kept, truncated } = capped([...listed].filter((path) => !deleted.has(path)).sort(), (path) => path, cap, 8);
    return { paths: kept, truncated };
  }

  async fileAt(dir: string, commitSha: string, path: string, maxBytes: number): Promise<{ content: Buffer; size: number }> {
    const object = `${commitSha}:${path}`;
    const type = await this.git.run(dir, ['cat-file', '-t', object], { okExitCodes: [128] });
    if (type.exitCode !== 0) throw new AppError(ErrorCode.GIT_PATH_NOT_FOUND, `${path} does not exist in ${commitSha.slice(0, 12)}`);
    if (type.stdout.trim() !== 'blob') throw new AppError(ErrorCode.GIT_PATH_NOT_FOUND, `${path} is a folder in ${commitSha.slice(0, 12)}, not a file`);
    const size = Number((await this.git.run(dir, ['cat-file', '-s', object])).stdout.trim());
    if (size > maxBytes) throw new AppError(ErrorCode.GIT_FILE_TOO_LARGE, `${path} is ${size} bytes; files up to ${maxBytes} bytes can be shown`);
    return { content: await this.git.blob(dir, object), size };
  }

  // Every blob of a commit's tree with its size, sorted by path (submodules are not files).
  async tree(dir: string, commitSha: string, cap: ReplyCap): Promise<{ entries: Array<{ path: string; size: number }>; truncated: boolean }> {
    const { stdout } = await this.git.run(dir, ['ls-tree', '-r', '-l', '-z', '--full-tree', commitSha]);
    const { kept, truncated } = capped(blobEntries(stdout), (entry) => entry.path, cap, 16);
    return { entries: kept, truncated };
  }

  // A commit with the given tree on top of `parent`, not yet on any branch.
  async commitTree(dir: string, tree: string, parent: string, paragraphs: string[], author: Identity): Promise<string> {
    const args = ['commit-tree', '--no-gpg-sign', tree, '-p', parent];
    for (const paragraph of paragraphs) args.push('-m', paragraph);
    return (await this.git.run(dir, args, { env: authorEnv(author) })).stdout.trim();
  }

  // Moves the current branch and the working tree to a descendant of HEAD. Fails (and changes
  // nothing) when HEAD moved meanwhile, so a commit made outside overskill is never lost.
  async fastForward(dir: string, sha: string): Promise<boolean> {
    const result = await this.git.run(dir, ['merge', '--ff-only', '--no-edit', '-q', sha], { okExitCodes: [1, 128] });
    if (result.exitCode === 0) return true;
    if (/Not possible to fast-forward|not something we can merge/i.test(result.stderr)) return false;
    throw new GitCommandError(result.exitCode, result.stderr);
  }

  async changedFileCount(dir: string, from: string, to: string): Promise<number> {
    const out = (await this.git.run(dir, ['diff', '--no-ext-diff', '--name-only', '-z', from, to])).stdout;
    return out.split('\0').filter(Boolean).length;
  }
}

import { AppError, ErrorCode } from '@overskill/contracts';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, read, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import { isGitInternalsName } from './resolve-workspace-path';

// openat() for Node on Linux: `/proc/self/fd/<fd>/<name>` resolves <name> inside the directory
// the descriptor holds, whatever happened to the path that opened it. Once a directory is open
// and its real location checked, nothing that renames or swaps folders afterwards can move
// where a file is created, read, renamed or deleted. Used by the repositories only.
//
// The descriptor bookkeeping (open, readlink, lstat, fstat, close) is synchronous on purpose:
// each is a syscall of a few microseconds, while a trip through libuv's 4-thread pool costs tens
// of microseconds idle and milliseconds under load — it was most of a search's and a file
// tool's time. File contents above SYNC_READ_MAX_BYTES, and fsync, stay asynchronous.
export const PROC_FD = '/proc/self/fd';
export const SYNC_READ_MAX_BYTES = 256 * 1024;
const readAsync = promisify(read);

export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;

export function entryPath(dir: PinnedDirectory, name: string): string {
  return `${PROC_FD}/${dir.fd}/${name}`;
}

export function whereIs(fd: number): string {
  return readlinkSync(`${PROC_FD}/${fd}`);
}

export function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(`${realRoot}/`);
}

export interface PinnedDirectory {
  fd: number;
  // Real absolute path when it was checked.
  real: string;
  // Relative to the root, POSIX ('.' for the root).
  relative: string;
  close(): void;
}

export function pinned(fd: number, real: string, realRoot: string): PinnedDirectory {
  let open = true;
  return {
    fd,
    real,
    relative: posix.relative(realRoot, real) || '.',
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

// The folder a descriptor holds must be inside the workspace and outside .git.
function assertAllowedDirectory(realRoot: string, real: string, shown: string): void {
  if (!isInside(realRoot, real)) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `${shown} resolves outside the app workspace`);
  const inside = posix.relative(realRoot, real);
  if (inside && inside.split('/').some(isGitInternalsName)) {
    throw new AppError(ErrorCode.TOOL_PATH_PROTECTED, `${shown} leads into the .git folder, which is managed by overskill`);
  }
}

// Opens `open` and checks where it landed; the descriptor is closed if the check fails.
function openChecked(path: string, realRoot: string, shown: string): PinnedDirectory {
  const fd = openSync(path, DIRECTORY_FLAGS);
  try {
    const real = whereIs(fd);
    assertAllowedDirectory(realRoot, real, shown);
    return pinned(fd, real, realRoot);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

export function openRoot(root: string): { dir: PinnedDirectory; realRoot: string } {
  let fd: number;
  try {
    fd = openSync(root, DIRECTORY_FLAGS);
  } catch {
    throw new AppError(ErrorCode.APP_NOT_FOUND, 'The app has no workspace');
  }
  // The root's real location is whatever the descriptor holds: everything is checked against it.
  const realRoot = whereIs(fd);
  return { dir: pinned(fd, realRoot, realRoot), realRoot };
}

// The folder `folders` (lexically safe names) names below the root, pinned. Reads take the
// whole path in one open (links inside the workspace followed) and check where the descriptor
// landed; creating walks one folder at a time, making what is missing, and so does a path that
// does not open, to say precisely what is wrong with it.
export function openDirectory(root: string, folders: readonly string[], opts: { create: boolean; shown: string }): { dir: PinnedDirectory; realRoot: string } {
  const opened = openRoot(root);
  if (folders.length === 0) return opened;
  const { realRoot } = opened;
  if (!opts.create) {
    try {
      const dir = openChecked(entryPath(opened.dir, folders.join('/')), realRoot, opts.shown);
      opened.dir.close();
      return { dir, realRoot };
    } catch (err) {
      if (err instanceof AppError) {
        opened.dir.close();
        throw err;
      }
    }
  }
  let current = opened.dir;
  try {
    for (const name of folders) {
      const path = entryPath(current, name);
      let next: PinnedDirectory;
      try {
        next = openChecked(path, realRoot, opts.shown);
      } catch (err) {
        if (err instanceof AppError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' || !opts.create) throw describeDirectoryError(err as NodeJS.ErrnoException, path, opts.shown, current.real, realRoot);
        try {
          // A dangling symlink here makes mkdir fail with EEXIST, and the open below says why.
          mkdirSync(path, 0o755);
        } catch (mkErr) {
          if ((mkErr as NodeJS.ErrnoException).code !== 'EEXIST') throw mkErr;
        }
        try {
          next = openChecked(path, realRoot, opts.shown);
        } catch (again) {
          if (again instanceof AppError) throw again;
          throw describeDirectoryError(again as NodeJS.ErrnoException, path, opts.shown, current.real, realRoot);
        }
      }
      current.close();
      current = next;
    }
  } catch (err) {
    current.close();
    throw err;
  }
  return { dir: current, realRoot };
}

function describeDirectoryError(err: NodeJS.ErrnoException, path: string, shown: string, parentReal: string, realRoot: string): AppError | Error {
  if (err.code === 'ENOENT') {
    // A symlink whose target is missing: refused as outside when it points there.
    let target: string | undefined;
    try {
      target = readlinkSync(path);
    } catch {
      target = undefined;
    }
    if (target !== undefined && !isInside(realRoot, posix.resolve(parentReal, target))) {
      return new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `${shown} goes through a symbolic link that points outside the app workspace`);
    }
    return new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${shown} does not exist`);
  }
  if (err.code === 'ENOTDIR') return new AppError(ErrorCode.TOOL_PATH_INVALID, `${shown}: a part of the path is a file, not a folder`);
  if (err.code === 'ELOOP') return new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `${shown} goes through a symbolic link loop`);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new AppError(ErrorCode.TOOL_PATH_PROTECTED, `${shown} is not accessible`);
  return err;
}

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

export interface EntryInfo {
  kind: EntryKind;
  size: number;
  nlink: number;
  mode: number;
  // For a symlink: whether it resolves inside the workspace, and to what.
  linkInside?: boolean;
  linkTargetRelative?: string;
}

function kindOf(info: Stats): EntryKind {
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isFile()) return 'file';
  return info.isDirectory() ? 'directory' : 'other';
}

// lstat of one entry of a pinned folder; undefined when it does not exist.
export function inspectEntry(dir: PinnedDirectory, name: string, realRoot: string): EntryInfo | undefined {
  const path = entryPath(dir, name);
  let info: Stats;
  try {
    info = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const entry: EntryInfo = { kind: kindOf(info), size: info.size, nlink: info.nlink, mode: info.mode };
  if (entry.kind === 'symlink') {
    let resolved: string;
    try {
      resolved = realpathSync(path);
    } catch {
      resolved = posix.resolve(dir.real, readlinkSync(path));
    }
    entry.linkInside = isInside(realRoot, resolved);
    if (entry.linkInside) entry.linkTargetRelative = posix.relative(realRoot, resolved);
  }
  return entry;
}

export function describeKind(info: { kind: EntryKind }): string {
  if (info.kind === 'directory') return 'a folder';
  if (info.kind === 'other') return 'a device, FIFO or socket';
  return 'a file';
}

// Refuses what no tool may read or overwrite: links (symbolic, or hard with other names that
// may live outside the workspace) and anything that is not a regular file.
export function assertPlainFile(info: EntryInfo, shown: string, opts: { allowHardLinks?: boolean } = {}): void {
  if (info.kind === 'symlink') {
    if (!info.linkInside) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `${shown} is a symbolic link that points outside the app workspace`);
    throw new AppError(ErrorCode.TOOL_PATH_SYMLINK, `${shown} is a symbolic link to ${info.linkTargetRelative}; use that path instead`);
  }
  if (info.kind !== 'file') throw new AppError(ErrorCode.TOOL_PATH_NOT_REGULAR_FILE, `${shown} is ${describeKind(info)}, not a regular file`);
  if (!opts.allowHardLinks && info.nlink > 1) {
    throw new AppError(
      ErrorCode.TOOL_PATH_HARD_LINK,
      `${shown} has ${info.nlink} hard links; its other names may be outside the app workspace, so it is not read or overwritten (delete or rename it instead)`,
    );
  }
}

// Opens one entry of a pinned folder without following a link, and checks what was opened:
// a regular file, one link, within the size limit. Returns its content.
export async function readPinnedFile(dir: PinnedDirectory, name: string, shown: string, maxBytes: number): Promise<Buffer> {
  let fd: number;
  try {
    fd = openSync(entryPath(dir, name), READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Swapped for a link or removed between the look and the open.
    if (code === 'ELOOP') throw new AppError(ErrorCode.TOOL_PATH_SYMLINK, `${shown} became a symbolic link; not followed`);
    if (code === 'ENOENT') throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${shown} does not exist`);
    throw err;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new AppError(ErrorCode.TOOL_PATH_NOT_REGULAR_FILE, `${shown} is not a regular file`);
    if (info.nlink > 1) throw new AppError(ErrorCode.TOOL_PATH_HARD_LINK, `${shown} has ${info.nlink} hard links; not read`);
    if (info.size > maxBytes) throw new AppError(ErrorCode.TOOL_FILE_TOO_LARGE, `${shown} is ${info.size} bytes; the limit is ${maxBytes}`);
    const buffer = Buffer.alloc(info.size);
    let offset = 0;
    while (offset < buffer.length) {
      const want = buffer.length - offset;
      const bytesRead =
        info.size <= SYNC_READ_MAX_BYTES ? readSync(fd, buffer, offset, want, offset) : (await readAsync(fd, buffer, offset, want, offset)).bytesRead;
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === buffer.length ? buffer : buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fsync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  assertPlainFile,
  entryPath,
  inspectEntry,
  isInside,
  openDirectory,
  PROC_FD,
  readPinnedFile,
  SYNC_READ_MAX_BYTES,
  type EntryInfo,
  type PinnedDirectory,
} from './pinned-directory';
import type { IgnoreRules } from './git-ignore';

// git reads ignore files of any size; one this large is not a workspace's, and its tree is listed
// by git instead.
const IGNORE_FILE_MAX_BYTES = 1024 * 1024;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const fsyncAsync = promisify(fsync);
const writeAsync = promisify(write);

function split(relative: string): { folders: string[]; name: string } {
  const parts = relative.split('/');
  return { folders: parts.slice(0, -1), name: parts.at(-1) ?? relative };
}

// The only code that reads or writes workspace files. Paths arrive lexically checked
// (resolveWorkspacePath); here every access goes through descriptors of folders whose real
// location was checked, the last name is never followed if it is a link, and what was opened is
// checked again after opening — so a symlink planted or swapped in at any moment cannot lead a
// read or a write outside the workspace.
@Injectable()
export class WorkspaceFilesRepository implements OnModuleInit {
  onModuleInit(): void {
    if (!existsSync(PROC_FD)) throw new Error(`tool-runner needs Linux ${PROC_FD} for its descriptor-based path checks`);
  }

  async inspect(root: string, relative: string): Promise<EntryInfo | undefined> {
    const { folders, name } = split(relative);
    let opened;
    try {
      opened = openDirectory(root, folders, { create: false, shown: relative });
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.TOOL_FILE_NOT_FOUND) return undefined;
      throw err;
    }
    try {
      return inspectEntry(opened.dir, name, opened.realRoot);
    } finally {
      opened.dir.close();
    }
  }

  async read(root: string, relative: string, maxBytes: number): Promise<Buffer> {
    const { folders, name } = split(relative);
    const { dir, realRoot } = openDirectory(root, folders, { create: false, shown: relative });
    try {
      const info = inspectEntry(dir, name, realRoot);
      if (!info) throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${relative} does not exist`);
      assertPlainFile(info, relative);
      if (info.size > maxBytes) throw new AppError(ErrorCode.TOOL_FILE_TOO_LARGE, `${relative} is ${info.size} bytes; the limit is ${maxBytes}`);
      return await readPinnedFile(dir, name, relative, maxBytes);
    } finally {
      dir.close();
    }
  }

  // The ignore rules git would apply to an untracked file at `relative`: `.git/info/exclude`, then the
  // `.gitignore` of the root and of each folder down to the file's own, those that exist. A
  // `.gitignore` is read as any workspace file is, so a planted link makes this fail, not follow it.
  async ignoreRules(root: string, relative: string): Promise<IgnoreRules[]> {
    const rules: IgnoreRules[] = [];
    const exclude = await this.gitExclude(root);
    if (exclude !== undefined) rules.push({ folder: '', patterns: exclude });
    const folders = split(relative).folders;
    for (let depth = 0; depth <= folders.length; depth++) {
      const folder = folders.slice(0, depth).join('/');
      try {
        const patterns = await this.read(root, folder ? `${folder}/.gitignore` : '.gitignore', IGNORE_FILE_MAX_BYTES);
        rules.push({ folder, patterns: patterns.toString('utf8') });
      } catch (err) {
        if (!(err instanceof AppError && err.code === ErrorCode.TOOL_FILE_NOT_FOUND)) throw err;
      }
    }
    return rules;
  }

  // `.git/info/exclude`, which no tool can reach (the .git folder is git-service's): read where it
  // really is, and only when that is inside the workspace. Synchronous up to SYNC_READ_MAX_BYTES,
  // as the descriptor bookkeeping is (pinned-directory.ts): it runs for every file a tool creates.
  private async gitExclude(root: string): Promise<string | undefined> {
    let real: string;
    try {
      real = realpathSync.native(join(root, '.git', 'info', 'exclude'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (!isInside(realpathSync.native(root), real))
      throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, '.git/info/exclude resolves outside the app workspace');
    // Never opened unless it is a plain file of a sane size: a FIFO would block the read.
    const info = statSync(real);
    if (!info.isFile()) throw new AppError(ErrorCode.TOOL_PATH_NOT_REGULAR_FILE, '.git/info/exclude is not a regular file');
    if (info.size > IGNORE_FILE_MAX_BYTES) throw new AppError(ErrorCode.TOOL_FILE_TOO_LARGE, `.git/info/exclude is ${info.size} bytes`);
    return (info.size <= SYNC_READ_MAX_BYTES ? readFileSync(real) : await readFile(real)).toString('utf8');
  }

  // Atomic: a temp file in the same (pinned) folder, fsync, rename over the name. A reader sees
  // the old or the new file; a hard link elsewhere to the old file keeps the old content.
  async writeAtomic(root: string, relative: string, content: Buffer): Promise<{ created: boolean }> {
    const { folders, name } = split(relative);
    const { dir, realRoot } = openDirectory(root, folders, { create: true, shown: relative });
    try {
      const existing = inspectEntry(dir, name, realRoot);
      if (existing) assertPlainFile(existing, relative);
      await this.replaceIn(dir, name, relative, content, existing ? existing.mode & 0o777 : 0o644);
      return { created: !existing };
    } finally {
      dir.close();
    }
  }

  async delete(root: string, relative: string): Promise<void> {
    const { folders, name } = split(relative);
    const { dir, realRoot } = openDirectory(root, folders, { create: false, shown: relative });
    try {
      const info = inspectEntry(dir, name, realRoot);
      if (!info) throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${relative} does not exist`);
      // Unlinking removes only this name, so a hard-linked file may go.
      assertPlainFile(info, relative, { allowHardLinks: true });
      unlinkSync(entryPath(dir, name));
    } finally {
      dir.close();
    }
  }

  // Files or whole folders; never a link, never over an existing entry unless `overwrite` (files only).
  async rename(root: string, from: string, to: string, opts: { overwrite: boolean }): Promise<void> {
    const source = split(from);
    const target = split(to);
    const src = openDirectory(root, source.folders, { create: false, shown: from });
    let dst: PinnedDirectory | undefined;
    try {
      const info = inspectEntry(src.dir, source.name, src.realRoot);
      if (!info) throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${from} does not exist`);
      if (info.kind !== 'directory') assertPlainFile(info, from, { allowHardLinks: true });
      dst = openDirectory(root, target.folders, { create: true, shown: to }).dir;
      const existing = inspectEntry(dst, target.name, src.realRoot);
      if (existing) {
        if (!opts.overwrite) throw new AppError(ErrorCode.TOOL_FILE_EXISTS, `${to} already exists; pass overwrite: true to replace it`);
        assertPlainFile(existing, to);
        if (info.kind === 'directory') throw new AppError(ErrorCode.TOOL_FILE_EXISTS, `${to} already exists; a folder is never moved over it`);
      }
      try {
        renameSync(entryPath(src.dir, source.name), entryPath(dst, target.name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EINVAL') throw new AppError(ErrorCode.TOOL_PATH_INVALID, `${from} cannot be moved into itself (${to})`);
        throw err;
      }
    } finally {
      src.dir.close();
      dst?.close();
    }
  }

  private async replaceIn(dir: PinnedDirectory, name: string, shown: string, content: Buffer, mode: number): Promise<void> {
    const tempPath = entryPath(dir, `.overskill-${randomBytes(8).toString('hex')}.tmp`);
    const fd = openSync(tempPath, CREATE_FLAGS, mode);
    try {
      try {
        let offset = 0;
        while (offset < content.length) {
          const want = content.length - offset;
          offset += content.length <= SYNC_READ_MAX_BYTES ? writeSync(fd, content, offset, want) : (await writeAsync(fd, content, offset, want)).bytesWritten;
        }
        // The umask may have narrowed the mode at creation.
        fchmodSync(fd, mode);
        await fsyncAsync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tempPath, entryPath(dir, name));
    } catch (err) {
      try {
        unlinkSync(tempPath);
      } catch {
        // already gone
      }
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new AppError(ErrorCode.TOOL_PATH_NOT_REGULAR_FILE, `${shown} is a folder`);
      throw err;
    }
  }
}

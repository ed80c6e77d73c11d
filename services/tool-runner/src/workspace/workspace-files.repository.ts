import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';

// The only code that reads or writes workspace files. Every access re-checks the real path,
// so a symlink planted in the workspace cannot lead outside it.
@Injectable()
export class WorkspaceFilesRepository {
  async workspaceExists(root: string): Promise<boolean> {
    try {
      return (await stat(root)).isDirectory();
    } catch {
      return false;
    }
  }

  async read(root: string, absolute: string, maxBytes: number): Promise<Buffer> {
    await this.assertInside(root, absolute);
    let info;
    try {
      info = await lstat(absolute);
    } catch {
      throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${relative(root, absolute)} does not exist`);
    }
    if (!info.isFile()) throw new AppError(ErrorCode.TOOL_FILE_NOT_FOUND, `${relative(root, absolute)} is not a regular file`);
    if (info.size > maxBytes) throw new AppError(ErrorCode.TOOL_FILE_TOO_LARGE, `${relative(root, absolute)} is ${info.size} bytes; the limit is ${maxBytes}`);
    return readFile(absolute);
  }

  // Atomic: a temp file in the same folder, fsync, rename. A reader sees the old or the new file.
  async writeAtomic(root: string, absolute: string, content: Buffer): Promise<void> {
    await mkdir(dirname(absolute), { recursive: true });
    await this.assertInside(root, absolute);
    const existing = await lstat(absolute).catch(() => undefined);
    if (existing && !existing.isFile()) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `${relative(root, absolute)} is not a regular file`);
    const temp = `${absolute}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, absolute);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  private async assertInside(root: string, absolute: string): Promise<void> {
    const realRoot = await realpath(root);
    // The deepest existing ancestor decides: a symlinked folder or file pointing out is refused.
    let probe = absolute;
    for (;;) {
      const real = await realpath(probe).catch(() => undefined);
      if (real !== undefined) {
        if (real !== realRoot && !real.startsWith(realRoot + sep)) {
          throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `${relative(root, absolute)} resolves outside the app workspace`);
        }
        return;
      }
      const parent = dirname(probe);
      if (parent === probe) return;
      probe = parent;
    }
  }
}

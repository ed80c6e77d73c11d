import { ErrorCode } from '@overskill/contracts';
import { execFileSync } from 'node:child_process';
import { constants, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
// The module object itself (not a namespace copy), so the spy sees the repository's calls.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkspaceFilesRepository } from './workspace-files.repository';

describe('WorkspaceFilesRepository (real files)', () => {
  const files = new WorkspaceFilesRepository();
  let base: string;
  let root: string;
  let outside: string;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'ws-spec-'));
    root = join(base, 'app');
    outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('writes atomically, creating folders, keeps the mode, and leaves no temp file', async () => {
    await files.writeAtomic(root, 'src/deep/a.txt', Buffer.from('one'));
    await files.writeAtomic(root, 'src/deep/a.txt', Buffer.from('two'));
    expect(readFileSync(join(root, 'src/deep/a.txt'), 'utf8')).toBe('two');
    expect(readdirSync(join(root, 'src/deep'))).toEqual(['a.txt']);
    writeFileSync(join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await files.writeAtomic(root, 'run.sh', Buffer.from('#!/bin/sh\necho hi\n'));
    expect(statSync(join(root, 'run.sh')).mode & 0o777).toBe(0o755);
  });

  it('gathers the ignore rules git applies to a path, outermost first, and follows no planted link', async () => {
    mkdirSync(join(root, '.git', 'info'), { recursive: true });
    mkdirSync(join(root, 'src', 'deep'), { recursive: true });
    writeFileSync(join(root, '.git', 'info', 'exclude'), '*.bak\n');
    writeFileSync(join(root, '.gitignore'), 'dist/\n');
    writeFileSync(join(root, 'src', 'deep', '.gitignore'), '!keep.bak\n');
    expect(await files.ignoreRules(root, 'src/deep/new.txt')).toEqual([
      { folder: '', patterns: '*.bak\n' },
      { folder: '', patterns: 'dist/\n' },
      { folder: 'src/deep', patterns: '!keep.bak\n' },
    ]);
    expect(await files.ignoreRules(root, 'other/new.txt')).toHaveLength(2);

    symlinkSync(join(outside, 'secret.txt'), join(root, 'src', '.gitignore'));
    await expect(files.ignoreRules(root, 'src/new.txt')).rejects.toMatchObject({ code: expect.any(String) });
    rmSync(join(root, 'src', '.gitignore'));
    rmSync(join(root, '.git', 'info', 'exclude'));
    symlinkSync(join(outside, 'secret.txt'), join(root, '.git', 'info', 'exclude'));
    await expect(files.ignoreRules(root, 'src/new.txt')).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    // A FIFO would block a read forever: refused before it is opened.
    rmSync(join(root, '.git', 'info', 'exclude'));
    execFileSync('mkfifo', [join(root, '.git', 'info', 'exclude')]);
    await expect(files.ignoreRules(root, 'src/new.txt')).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_NOT_REGULAR_FILE });
  });

  it('reads back what it wrote', async () => {
    await files.writeAtomic(root, 'a.txt', Buffer.from('hello'));
    expect((await files.read(root, 'a.txt', 1024)).toString()).toBe('hello');
  });

  it('follows a symlinked folder that stays inside, and refuses one that points outside', async () => {
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    await files.writeAtomic(root, 'alias/x.txt', Buffer.from('x'));
    expect(readFileSync(join(root, 'real/x.txt'), 'utf8')).toBe('x');
    symlinkSync(outside, join(root, 'escape'));
    await expect(files.read(root, 'escape/secret.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    await expect(files.writeAtomic(root, 'escape/new.txt', Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('never reads or writes through a symlinked file, naming the target when it is inside', async () => {
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    await expect(files.read(root, 'link.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    await expect(files.writeAtomic(root, 'link.txt', Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    writeFileSync(join(root, 'target.txt'), 't');
    symlinkSync('target.txt', join(root, 'inner-link.txt'));
    await expect(files.read(root, 'inner-link.txt', 1024)).rejects.toMatchObject({
      code: ErrorCode.TOOL_PATH_SYMLINK,
      message: expect.stringContaining('target.txt'),
    });
  });

  it('refuses hard-linked files for reading and overwriting, but may delete the extra name', async () => {
    linkSync(join(outside, 'secret.txt'), join(root, 'hard.txt'));
    await expect(files.read(root, 'hard.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_HARD_LINK });
    await expect(files.writeAtomic(root, 'hard.txt', Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_HARD_LINK });
    await files.delete(root, 'hard.txt');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('renames files and folders, refusing to replace unless asked', async () => {
    writeFileSync(join(root, 'a.txt'), 'a');
    writeFileSync(join(root, 'b.txt'), 'b');
    await expect(files.rename(root, 'a.txt', 'b.txt', { overwrite: false })).rejects.toMatchObject({ code: ErrorCode.TOOL_FILE_EXISTS });
    await files.rename(root, 'a.txt', 'b.txt', { overwrite: true });
    expect(readFileSync(join(root, 'b.txt'), 'utf8')).toBe('a');
    mkdirSync(join(root, 'dir'));
    writeFileSync(join(root, 'dir/f.txt'), 'f');
    await files.rename(root, 'dir', 'moved/dir2', { overwrite: false });
    expect(readFileSync(join(root, 'moved/dir2/f.txt'), 'utf8')).toBe('f');
    await expect(files.rename(root, 'moved', 'moved/dir2/inner', { overwrite: false })).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_INVALID });
  });

  it('reports missing, oversized and non-regular entries with their codes', async () => {
    await expect(files.read(root, 'nope.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_FILE_NOT_FOUND });
    await expect(files.read(root, 'no/such/dir.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_FILE_NOT_FOUND });
    writeFileSync(join(root, 'big.txt'), 'x'.repeat(2048));
    await expect(files.read(root, 'big.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_FILE_TOO_LARGE });
    mkdirSync(join(root, 'folder'));
    await expect(files.read(root, 'folder', 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_NOT_REGULAR_FILE });
    await expect(files.writeAtomic(root, 'folder', Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_NOT_REGULAR_FILE });
    await expect(files.writeAtomic(root, 'big.txt/child', Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_INVALID });
  });

  // The moment between "this folder is inside" and "create the file there" is where a swapped-in
  // symlink used to win. The swap is made deterministic here: it happens inside the very open()
  // call that creates (or reads) the file. The folder was pinned by descriptor before, so the
  // file still lands in (or comes from) the real folder, never `outside`.
  describe('a folder swapped for a symlink between the check and the file access', () => {
    const swapDuring = (flagsWanted: (flags: number) => boolean) => {
      const original = fs.openSync;
      let swapped = false;
      return jest.spyOn(fs, 'openSync').mockImplementation((path, flags, mode) => {
        if (!swapped && typeof flags === 'number' && flagsWanted(flags) && String(path).startsWith('/proc/self/fd/') && !(flags & constants.O_DIRECTORY)) {
          swapped = true;
          renameSync(join(root, 'dir'), join(root, 'dir-parked'));
          symlinkSync(outside, join(root, 'dir'));
        }
        return original(path, flags, mode);
      });
    };
    afterEach(() => jest.restoreAllMocks());

    it('writes land in the real folder', async () => {
      mkdirSync(join(root, 'dir'));
      const spy = swapDuring((flags) => (flags & constants.O_CREAT) !== 0);
      await files.writeAtomic(root, 'dir/new.txt', Buffer.from('inside'));
      expect(spy).toHaveBeenCalled();
      expect(readFileSync(join(root, 'dir-parked/new.txt'), 'utf8')).toBe('inside');
      expect(readdirSync(outside)).toEqual(['secret.txt']);
    });

    it('reads come from the real folder', async () => {
      mkdirSync(join(root, 'dir'));
      writeFileSync(join(root, 'dir/secret.txt'), 'inside');
      const spy = swapDuring((flags) => (flags & constants.O_NOFOLLOW) !== 0 && (flags & constants.O_CREAT) === 0);
      expect((await files.read(root, 'dir/secret.txt', 1024)).toString()).toBe('inside');
      expect(spy).toHaveBeenCalled();
    });
  });

  it('answers APP_NOT_FOUND for a workspace that does not exist', async () => {
    await expect(files.read(join(base, 'missing-app'), 'a.txt', 1024)).rejects.toMatchObject({ code: ErrorCode.APP_NOT_FOUND });
  });
});

import { ErrorCode } from '@overskill/contracts';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('writes atomically, creating folders, and leaves no temp file', async () => {
    await files.writeAtomic(root, join(root, 'src/deep/a.txt'), Buffer.from('one'));
    await files.writeAtomic(root, join(root, 'src/deep/a.txt'), Buffer.from('two'));
    expect(readFileSync(join(root, 'src/deep/a.txt'), 'utf8')).toBe('two');
    expect(readdirSync(join(root, 'src/deep'))).toEqual(['a.txt']);
  });

  it('refuses to read or write through a symlinked folder that points outside', async () => {
    symlinkSync(outside, join(root, 'escape'));
    await expect(files.read(root, join(root, 'escape/secret.txt'), 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    await expect(files.writeAtomic(root, join(root, 'escape/new.txt'), Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('refuses a symlinked file that points outside, for reads and writes', async () => {
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    await expect(files.read(root, join(root, 'link.txt'), 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    await expect(files.writeAtomic(root, join(root, 'link.txt'), Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('reports missing and oversized files with their codes', async () => {
    await expect(files.read(root, join(root, 'nope.txt'), 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_FILE_NOT_FOUND });
    writeFileSync(join(root, 'big.txt'), 'x'.repeat(2048));
    await expect(files.read(root, join(root, 'big.txt'), 1024)).rejects.toMatchObject({ code: ErrorCode.TOOL_FILE_TOO_LARGE });
  });
});

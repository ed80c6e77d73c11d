import { AppError, ErrorCode } from '@overskill/contracts';
import type { AppLease } from '@overskill/persistence';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_ID } from '../__tests__/tool-harness';
import { WorkspaceWriter } from './workspace';
import { WorkspaceFilesRepository } from './workspace-files.repository';

describe('WorkspaceWriter', () => {
  let base: string;
  let dir: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'writer-spec-'));
    dir = join(base, APP_ID);
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'kept');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const writerWith = (lease: AppLease) => new WorkspaceWriter(new WorkspaceFilesRepository(), base, APP_ID, 1e6, lease);

  it('confirms the write lock before every kind of change, and changes nothing once it is lost', async () => {
    const lost: AppLease = {
      signal: AbortSignal.abort(),
      assertHeld: async () => Promise.reject(new AppError(ErrorCode.APP_LEASE_LOST, 'lost')),
    };
    const writer = writerWith(lost);
    await expect(writer.write('new.txt', Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.APP_LEASE_LOST });
    await expect(writer.delete('keep.txt')).rejects.toMatchObject({ code: ErrorCode.APP_LEASE_LOST });
    await expect(writer.rename('keep.txt', 'moved.txt', false)).rejects.toMatchObject({ code: ErrorCode.APP_LEASE_LOST });
    expect(readdirSync(dir)).toEqual(['keep.txt']);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('kept');
  });

  it('asks once per change while the lock is held', async () => {
    let checks = 0;
    const writer = writerWith({ signal: new AbortController().signal, assertHeld: async () => void (checks += 1) });
    await writer.write('new.txt', Buffer.from('x'));
    await writer.rename('new.txt', 'moved.txt', false);
    await writer.delete('keep.txt');
    expect(checks).toBe(3);
    expect(readdirSync(dir)).toEqual(['moved.txt']);
  });
});

import { ErrorCode } from '@overskill/contracts';
import type { AppLease, AppWriteLock, LeveledCache } from '@overskill/persistence';
import { createServiceMetrics } from '@overskill/observability';
import type { Logger } from 'pino';
import type { GitServiceEnv } from '../config';
import type { Clock } from './clock';
import type { GitLockFile, GitLockFilesRepository } from './git-lock-files.repository';
import { GitMetrics } from './git-metrics';
import { GitOperationRunner } from './git-operation.runner';
import type { WorkspaceVolumeRepository } from './workspace-volume.repository';

const APP = '7d0b5c7e-7a3e-4c1e-9f55-8d1c2b3a4f5e';

// The stale-lock rule with time held still: a lock file goes only when it is old enough AND
// no git process works in the repository; otherwise the write waits, then gives up.
describe('GitOperationRunner: stale git lock files', () => {
  let now: number;
  let locks: Array<Omit<GitLockFile, 'ageMs'> & { createdAt: number }>;
  let holders: number[];
  let removed: string[];
  let runner: GitOperationRunner;
  const metrics = new GitMetrics(createServiceMetrics('runner-spec'));

  beforeEach(() => {
    now = 1_000_000;
    locks = [];
    holders = [];
    removed = [];
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) } as Clock;
    const lockFiles = {
      list: async () => locks.map((l) => ({ name: l.name, path: l.path, ageMs: now - l.createdAt })),
      gitProcessesIn: async () => holders,
      remove: async (path: string) => {
        removed.push(path);
        locks = locks.filter((l) => l.path !== path);
      },
    } as unknown as GitLockFilesRepository;
    const volume = { hasRepo: async () => true, repoDir: () => '/w/app' } as unknown as WorkspaceVolumeRepository;
    const appLock = {
      withLock: <T>(_id: string, work: (lease: AppLease) => Promise<T>) => work({ signal: new AbortController().signal, assertHeld: async () => undefined }),
    } as unknown as AppWriteLock;
    const logger = { warn: () => undefined } as unknown as Logger;
    const cache = { dropApp: async () => undefined } as unknown as LeveledCache;
    runner = new GitOperationRunner(
      { GIT_STALE_LOCK_MS: 5000, GIT_LOCK_WAIT_MS: 8000, GIT_LOCK_LEASE_MS: 30_000 } as GitServiceEnv,
      appLock,
      lockFiles,
      volume,
      metrics,
      clock,
      logger,
      cache,
    );
  });

  const lock = (name: string, ageMs: number) => locks.push({ name, path: `/w/app/.git/${name}`, createdAt: now - ageMs });

  it('removes a lock left by a crash once it is old enough, then runs the write', async () => {
    lock('index.lock', 60_000);
    lock('refs/heads/main.lock', 60_000);
    await expect(runner.write('commit', APP, async () => 'done')).resolves.toBe('done');
    expect(removed).toEqual(['/w/app/.git/index.lock', '/w/app/.git/refs/heads/main.lock']);
  });

  it('waits for a young lock to age before removing it', async () => {
    lock('index.lock', 1000);
    const started = now;
    await runner.write('commit', APP, async () => undefined);
    expect(removed).toEqual(['/w/app/.git/index.lock']);
    expect(now - started).toBeGreaterThanOrEqual(4000);
  });

  it('never removes a lock while a git process works in the repository, and gives up with GIT_REPO_LOCKED', async () => {
    lock('index.lock', 60_000);
    holders = [4242];
    let ran = false;
    await expect(
      runner.write('commit', APP, async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: ErrorCode.GIT_REPO_LOCKED });
    expect(removed).toEqual([]);
    expect(ran).toBe(false);
  });

  it('goes ahead at once when there is no lock file', async () => {
    const started = now;
    await runner.write('commit', APP, async () => undefined);
    expect(now).toBe(started);
  });
});

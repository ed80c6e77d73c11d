import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Crashes in the middle of a commit: git killed with SIGKILL while it holds index.lock, and a
// whole replica killed mid-commit. The repository must stay valid and heal on the next write,
// and a lock a live git process holds must never be taken from it.
describe('git-service: crash during a commit', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const strays: ChildProcess[] = [];

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'git-crash');
    workspaces = join(dir, 'workspaces');
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['git-service'],
      // Short clocks so the test does not wait out production's: a lock file is stale after
      // 1 s, a dead replica's app lock expires after 2 s.
      env: { LOG_LEVEL: 'warn', GIT_STALE_LOCK_MS: '1000', GIT_LOCK_LEASE_MS: '2000' },
    });
    nc = await connectNats(stack.natsUrl, 'git-crash-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-crash-test'), 20_000);
  }, 60_000);

  afterAll(async () => {
    for (const child of strays) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await nc?.close();
    await platform?.stop();
  });

  const repo = (appId: string) => join(workspaces, appId);
  const git = (appId: string, ...args: string[]) => spawnSync('git', args, { cwd: repo(appId), encoding: 'utf8' });
  const lockFile = (appId: string) => join(repo(appId), '.git', 'index.lock');
  const waitFor = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  // `git commit -a` holds index.lock while its editor runs: a commit caught in the middle.
  const commitInProgress = async (appId: string) => {
    const child = spawn('git', ['commit', '-a'], {
      cwd: repo(appId),
      env: {
        ...process.env,
        GIT_EDITOR: 'sleep 60;:',
        GIT_AUTHOR_NAME: 'Dev',
        GIT_AUTHOR_EMAIL: 'dev@x.test',
        GIT_COMMITTER_NAME: 'Dev',
        GIT_COMMITTER_EMAIL: 'dev@x.test',
      },
      stdio: 'ignore',
    });
    strays.push(child);
    await waitFor('index.lock', () => existsSync(lockFile(appId)));
    return child;
  };
  const killed = (child: ChildProcess, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  const staleLocksRemoved = async () =>
    Number(/^git_stale_locks_removed_total\{[^}]*\} (\d+)/m.exec(await (await fetch(`${platform.urls['git-service']}/metrics`)).text())?.[1] ?? 0);

  it('a git process killed mid-commit leaves a repository git fsck accepts, and the next commit removes the stale lock', async () => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    writeFileSync(join(repo(appId), 'README.md'), '# Edited before the crash\n');
    const crashing = await commitInProgress(appId);
    await killed(crashing, 'SIGKILL');
    expect(existsSync(lockFile(appId))).toBe(true);
    expect(git(appId, 'fsck', '--full').status).toBe(0);
    // Plain git refuses to work now; git-service repairs it.
    expect(git(appId, 'add', '-A').stderr).toContain('index.lock');
    const removedBefore = await staleLocksRemoved();

    const commit = await rpc.send(Rpc.gitRepoCommit, { appId, message: 'After the crash' });
    expect(commit).toMatchObject({ created: true, filesChanged: 1 });
    expect(existsSync(lockFile(appId))).toBe(false);
    expect(git(appId, 'log', '-1', '--format=%s').stdout.trim()).toBe('After the crash');
    expect(git(appId, 'show', 'HEAD:README.md').stdout).toBe('# Edited before the crash\n');
    expect(git(appId, 'status', '--porcelain').stdout).toBe('');
    expect(git(appId, 'fsck', '--full', '--strict').status).toBe(0);
    expect(await staleLocksRemoved()).toBe(removedBefore + 1);
  }, 30_000);

  it('never removes a lock a live git process holds, however old it looks: GIT_REPO_LOCKED until it is done', async () => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    writeFileSync(join(repo(appId), 'README.md'), '# Someone is committing by hand\n');
    const working = await commitInProgress(appId);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(appId), old, old);

    await expect(rpc.send(Rpc.gitRepoCommit, { appId, message: 'Must wait' })).rejects.toMatchObject({ code: 'GIT_REPO_LOCKED' });
    expect(existsSync(lockFile(appId))).toBe(true);
    expect(working.exitCode).toBeNull();
    expect(git(appId, 'log', '--format=%s').stdout.trim()).toBe('Initial commit');

    // It gives up (SIGTERM: git removes its own lock), and work goes on.
    await killed(working, 'SIGTERM');
    expect(await rpc.send(Rpc.gitRepoCommit, { appId, message: 'Now it may' })).toMatchObject({ created: true });
  }, 30_000);

  it('a replica killed mid-commit, its git with it: the restarted replica waits out the lease, repairs, and commits everything', async () => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    // Large enough that staging takes a while, so the kill lands inside git.
    for (let d = 0; d < 40; d++) {
      mkdirSync(join(repo(appId), `dir-${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(repo(appId), `dir-${d}`, `file-${f}.txt`), `${d}/${f} ${'x'.repeat(4000)}\n`);
    }
    const servicePid = platform.pids()['git-service']!;
    const pending = rpc.send(Rpc.gitRepoCommit, { appId, message: 'Interrupted' }, { timeoutMs: 3000 }).catch((e: unknown) => e);
    let gitPid: number | undefined;
    await waitFor('git-service to be inside git add, holding index.lock', () => (gitPid = gitChildOf(servicePid)) !== undefined && existsSync(lockFile(appId)));
    process.kill(gitPid!, 'SIGKILL');
    await platform.stopService('git-service', 'SIGKILL');
    expect(existsSync(lockFile(appId))).toBe(true);
    expect(await pending).toMatchObject({ code: expect.stringMatching(/RPC_TIMEOUT|RPC_NO_RESPONDERS|INTERNAL/) });
    expect(git(appId, 'fsck', '--full').status).toBe(0);

    await platform.start('git-service');
    const commit = await rpc.send(Rpc.gitRepoCommit, { appId, message: 'After the replica crash' });
    expect(commit.created).toBe(true);
    expect(
      Number(
        git(appId, 'ls-tree', '-r', '--name-only', 'HEAD')
          .stdout.split('\n')
          .filter((p) => p.startsWith('dir-')).length,
      ),
    ).toBe(4000);
    expect(git(appId, 'status', '--porcelain').stdout).toBe('');
    expect(git(appId, 'fsck', '--full', '--strict').status).toBe(0);
    expect(existsSync(lockFile(appId))).toBe(false);
  }, 30_000);
});

// A git process whose parent is the service (Linux /proc).
function gitChildOf(parentPid: number): number | undefined {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2).split(' ')];
      if (comm === 'git' && Number(rest[1]) === parentPid) return Number(pid);
    } catch {
      // gone
    }
  }
  return undefined;
}

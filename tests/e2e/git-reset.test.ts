import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

interface Problem {
  appId: string;
  kind: string;
  path: string;
  action: string;
  detail: string;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@e',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@e',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_EDITOR: 'true',
};
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
// A command expected to stop half-way (a conflict): its exit code is the point.
const gitFails = (cwd: string, ...args: string[]) => expect(spawnSync('git', args, { cwd, env: GIT_ENV }).status).not.toBe(0);

// `overskill git reset`: real repositories broken the ways a crashed or interrupted git leaves
// them, found, repaired under the app lock, or only reported with --dry-run.
describe('git-service: git reset', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let liveGit: ChildProcess;
  const apps = {
    staleLock: randomUUID(),
    liveLock: randomUUID(),
    merge: randomUUID(),
    rebase: randomUUID(),
    cherryPick: randomUUID(),
    brokenRefs: randomUUID(),
    healthy: randomUUID(),
  };
  const reset = (...args: string[]) => {
    const r = runCli(['git', 'reset', '--json', ...args], stack);
    if (r.status !== 0 && r.status !== 1) throw new Error(`git reset exited ${r.status}: ${r.stderr}`);
    return { status: r.status, report: JSON.parse(r.stdout) as { dryRun: boolean; scanned: number; repaired: number; problems: Problem[] }, stderr: r.stderr };
  };
  const of = (problems: Problem[], appId: string) => problems.filter((p) => p.appId === appId).map((p) => [p.kind, p.path, p.action]);

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'git-reset');
    workspaces = join(dir, 'workspaces');
    mkdirSync(workspaces, { recursive: true });
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['git-service'],
      env: { LOG_LEVEL: 'warn', GIT_LOCK_WAIT_MS: '1000' },
    });
    nc = await connectNats(stack.natsUrl, 'git-reset-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-reset-test'), 10_000);
  }, 90_000);

  afterAll(async () => {
    liveGit?.kill();
    await nc?.close();
    await platform?.stop();
  });

  it('checks an empty volume and finds nothing', () => {
    const { status, report } = reset();
    expect(status).toBe(0);
    expect(report).toEqual({ dryRun: false, scanned: 0, repaired: 0, staleLockSeconds: 5, problems: [] });
  });

  it('reports every problem in a dry run, changes nothing, then repairs what it can', async () => {
    for (const appId of Object.values(apps)) await rpc.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    const repo = (appId: string) => join(workspaces, appId);
    const minuteAgo = new Date(Date.now() - 60_000);
    // A git that crashed a minute ago, and an old lock whose git still runs (waiting on its input).
    writeFileSync(join(repo(apps.staleLock), '.git', 'index.lock'), '');
    utimesSync(join(repo(apps.staleLock), '.git', 'index.lock'), minuteAgo, minuteAgo);
    writeFileSync(join(repo(apps.liveLock), '.git', 'index.lock'), '');
    utimesSync(join(repo(apps.liveLock), '.git', 'index.lock'), minuteAgo, minuteAgo);
    liveGit = spawn('git', ['hash-object', '--stdin'], { cwd: repo(apps.liveLock), stdio: ['pipe', 'ignore', 'ignore'] });
    // A merge, a rebase and a cherry-pick stopped by a conflict.
    const conflict = (dir: string) => {
      git(dir, 'checkout', '-q', '-b', 'side');
      writeFileSync(join(dir, 'notes.txt'), 'side\n');
      git(dir, 'add', '.');
      git(dir, 'commit', '-q', '-m', 'side');
      git(dir, 'checkout', '-q', '-');
      writeFileSync(join(dir, 'notes.txt'), 'main\n');
      git(dir, 'add', '.');
      git(dir, 'commit', '-q', '-m', 'main');
    };
    for (const appId of [apps.merge, apps.rebase, apps.cherryPick]) conflict(repo(appId));
    const mainHead = git(repo(apps.merge), 'rev-parse', 'HEAD');
    gitFails(repo(apps.merge), 'merge', 'side');
    gitFails(repo(apps.rebase), 'rebase', 'side');
    gitFails(repo(apps.cherryPick), 'cherry-pick', 'side');
    // A ref file full of garbage, and a branch naming an object the repository does not have.
    writeFileSync(join(repo(apps.brokenRefs), '.git', 'refs', 'heads', 'garbage'), 'not a sha\n');
    writeFileSync(join(repo(apps.brokenRefs), '.git', 'refs', 'heads', 'lost'), `${'0123456789'.repeat(4)}\n`);

    const dry = reset('--dry-run');
    // Broken refs are beyond repair here, dry run or not: exit 1.
    expect(dry.status).toBe(1);
    expect(dry.report).toMatchObject({ dryRun: true, scanned: 7, repaired: 0 });
    expect(of(dry.report.problems, apps.staleLock)).toEqual([['stale_lock', 'index.lock', 'would_remove']]);
    expect(of(dry.report.problems, apps.liveLock)).toEqual([['live_lock', 'index.lock', 'kept_in_use']]);
    expect(of(dry.report.problems, apps.merge)).toEqual([['interrupted_merge', 'MERGE_HEAD', 'would_abort']]);
    expect(of(dry.report.problems, apps.rebase)).toEqual([['interrupted_rebase', 'rebase-merge', 'would_abort']]);
    expect(of(dry.report.problems, apps.cherryPick)).toEqual([['interrupted_cherry_pick', 'CHERRY_PICK_HEAD', 'would_abort']]);
    expect(of(dry.report.problems, apps.brokenRefs).sort()).toEqual([
      ['broken_ref', 'refs/heads/garbage', 'cannot_fix'],
      ['broken_ref', 'refs/heads/lost', 'cannot_fix'],
    ]);
    expect(of(dry.report.problems, apps.healthy)).toEqual([]);
    // Progress: one JSON line per repository on stderr.
    const progress = dry.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(progress.at(-1)).toMatchObject({ progress: 'git reset', unit: 'repositories', done: 7, total: 7, etaS: 0 });
    expect(existsSync(join(repo(apps.staleLock), '.git', 'index.lock'))).toBe(true);
    expect(existsSync(join(repo(apps.merge), '.git', 'MERGE_HEAD'))).toBe(true);

    const real = reset();
    expect(real.status).toBe(1);
    expect(real.report).toMatchObject({ dryRun: false, scanned: 7, repaired: 4 });
    expect(of(real.report.problems, apps.staleLock)).toEqual([['stale_lock', 'index.lock', 'removed']]);
    expect(of(real.report.problems, apps.liveLock)).toEqual([['live_lock', 'index.lock', 'kept_in_use']]);
    expect(of(real.report.problems, apps.merge)).toEqual([['interrupted_merge', 'MERGE_HEAD', 'aborted']]);
    expect(of(real.report.problems, apps.rebase)).toEqual([['interrupted_rebase', 'rebase-merge', 'aborted']]);
    expect(of(real.report.problems, apps.cherryPick)).toEqual([['interrupted_cherry_pick', 'CHERRY_PICK_HEAD', 'aborted']]);
    expect(existsSync(join(repo(apps.staleLock), '.git', 'index.lock'))).toBe(false);
    expect(existsSync(join(repo(apps.liveLock), '.git', 'index.lock'))).toBe(true);
    for (const appId of [apps.merge, apps.rebase, apps.cherryPick]) {
      expect(git(repo(appId), 'status', '--porcelain')).toBe('');
      expect(readFileSync(join(repo(appId), 'notes.txt'), 'utf8')).toBe('main\n');
    }
    expect(git(repo(apps.merge), 'rev-parse', 'HEAD')).toBe(mainHead);
    // The repaired repositories take writes again.
    writeFileSync(join(repo(apps.merge), 'after.txt'), 'ok\n');
    await rpc.send(Rpc.gitRepoCommit, { appId: apps.merge, message: 'after reset' });

    // Once its git has exited, the old lock is stale like any other.
    liveGit.kill();
    await new Promise((r) => liveGit.once('exit', r));
    const after = reset('--dry-run');
    expect(after.report.problems.map((p) => [p.kind, p.action]).sort()).toEqual([
      ['broken_ref', 'cannot_fix'],
      ['broken_ref', 'cannot_fix'],
      ['stale_lock', 'would_remove'],
    ]);
  }, 60_000);

  it('refuses bad arguments, and says so when git-service is down', async () => {
    expect(runCli(['git', 'reset', '--dryrun'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining("Unknown option '--dryrun'") });
    expect(runCli(['git', 'reset', '--dry-run=true'], stack)).toMatchObject({ status: 2 });
    expect(runCli(['git', 'reset', 'everything'], stack)).toMatchObject({ status: 2 });
    await platform.stopService('git-service');
    const down = runCli(['git', 'reset', '--dry-run'], stack);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
  }, 30_000);
});

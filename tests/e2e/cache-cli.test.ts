import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { DEFAULT_CACHE_CONFIG, LeveledCache, REDIS_CLIENT_OPTIONS } from '@overskill/persistence';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// `overskill cache stats|cleanup` over the orchestrator, which owns the operator's view of the
// cache levels; and the services' own invalidations (an app edited, a branch switched) seen
// through it.
describe('cache levels: stats, cleanup and invalidation across services', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let redis: Redis;
  let cache: LeveledCache;
  const teamA = randomUUID();
  const teamB = randomUUID();

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'cache-cli');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'git-service'],
      env: { LOG_LEVEL: 'warn', CACHE_CONFIG_FILE: join(REPO_ROOT, 'config/cache.yml') },
    });
    nc = await connectNats(stack.natsUrl, 'cache-cli-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('cache-cli-test'), 10_000);
    redis = new Redis(stack.redisUrl, REDIS_CLIENT_OPTIONS);
    await new Promise((resolve) => redis.once('ready', resolve));
    cache = new LeveledCache(redis, DEFAULT_CACHE_CONFIG, new Registry());
  }, 90_000);

  afterAll(async () => {
    redis?.disconnect();
    await nc?.close();
    await platform?.stop();
  });

  const stats = (...args: string[]) => {
    const r = runCli(['cache', 'stats', ...args, '--json'], stack);
    expect([r.status, r.stderr.split('\n').filter((l) => l && !l.startsWith('{"progress"'))]).toEqual([0, []]);
    return JSON.parse(r.stdout) as {
      levels: Array<{ level: string; entries: number; hits: number; misses: number; staleEntries: number; ttlSeconds: number }>;
      teams: Array<Record<string, unknown>>;
    };
  };
  const team = (s: ReturnType<typeof stats>, level: string, teamId: string) => s.teams.find((t) => t.level === level && t.teamId === teamId);

  it('reports entries, hits and misses per level and per team, and nothing for a team without entries', async () => {
    const appA = randomUUID();
    await cache.tenant('app_schema', { teamId: teamA, appId: appA }, async () => ['index.html']);
    await cache.tenant('app_schema', { teamId: teamA, appId: appA }, async () => ['index.html']);
    for (const path of ['a.txt', 'b.txt']) await cache.file('file_contents', { teamId: teamA, appId: appA, path }, async () => 'x'.repeat(100));
    await cache.file('file_contents', { teamId: teamB, appId: randomUUID(), path: 'a.txt' }, async () => 'b');

    const all = stats();
    expect(all.levels.map((l) => [l.level, l.ttlSeconds])).toEqual([
      ['global', 3600],
      ['tenant', 1800],
      ['file', 600],
    ]);
    expect(team(all, 'tenant', teamA)).toMatchObject({ entries: 1, hits: 1, misses: 1, hitRate: 0.5, staleEntries: 0 });
    expect(team(all, 'file', teamA)).toMatchObject({ entries: 2, misses: 2, hits: 0 });
    expect((team(all, 'file', teamA)?.bytes as number) >= 200).toBe(true);
    expect(team(all, 'file', teamB)).toMatchObject({ entries: 1 });

    const onlyA = stats('--level', 'file', '--team', teamA);
    expect(onlyA.levels).toEqual([expect.objectContaining({ level: 'file', entries: 2 })]);
    expect(onlyA.teams.map((t) => t.teamId)).toEqual([teamA]);

    const nobody = runCli(['cache', 'stats', '--team', randomUUID()], stack);
    expect(nobody.status).toBe(0);
    expect(nobody.stdout).toMatch(/no cache entries or lookups for team/);
    const text = runCli(['cache', 'stats', '--level', 'tenant'], stack);
    expect(text.stdout).toMatch(new RegExp(`${teamA} +1 +0 .* 1 +1 +50\\.0%`));
  });

  it('drops an app’s entries when the orchestrator edits it or git-service switches its branch', async () => {
    const app = await rpc.send(Rpc.appCreate, { teamId: teamA, name: 'Cached app', template: 'empty' });
    const scope = { teamId: teamA, appId: app.id };
    const tree = jest.fn(async () => ['index.html']);
    const file = jest.fn(async () => 'content');
    const lookups = () => Promise.all([cache.tenant('app_schema', scope, tree), cache.file('file_contents', { ...scope, path: 'index.html' }, file)]);
    // The app's creation stored its tree: the template's files.
    expect((await lookups())[0]).toEqual(['README.md']);
    await lookups();
    expect([tree.mock.calls.length, file.mock.calls.length]).toEqual([0, 1]);

    await rpc.send(Rpc.appUpdate, { teamId: teamA, appId: app.id, description: 'now with a description' });
    await lookups();
    expect([tree.mock.calls.length, file.mock.calls.length]).toEqual([1, 2]);

    await rpc.send(Rpc.gitBranchCreate, { appId: app.id, name: 'feature', switchTo: true }, { tenantId: teamA });
    await lookups();
    expect([tree.mock.calls.length, file.mock.calls.length]).toEqual([2, 3]);
    // A commit changes no file: the entries stay.
    expect(await rpc.send(Rpc.gitRepoCommit, { appId: app.id, message: 'nothing new' }, { tenantId: teamA })).toMatchObject({ created: false });
    await lookups();
    expect([tree.mock.calls.length, file.mock.calls.length]).toEqual([2, 3]);

    // The two older generations' entries are what cleanup calls stale.
    const after = stats('--team', teamA);
    expect([team(after, 'tenant', teamA)?.staleEntries, team(after, 'file', teamA)?.staleEntries]).toEqual([2, 2]);
  });

  it('cleans stale entries (a dry run first), or every entry of a level and team, page by page', async () => {
    const dry = runCli(['cache', 'cleanup', '--team', teamA, '--dry-run', '--json'], stack);
    expect(dry.status).toBe(0);
    const planned = JSON.parse(dry.stdout);
    expect(planned).toMatchObject({ dryRun: true, removed: 0, teamId: teamA });
    expect(planned.matched).toBe(4);
    const progress = dry.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(progress.at(-1)).toMatchObject({ progress: 'cache cleanup (dry run)', unit: 'keys', done: planned.scanned });
    expect(team(stats('--team', teamA), 'tenant', teamA)?.staleEntries).toBe(2);

    const real = JSON.parse(runCli(['cache', 'cleanup', '--team', teamA, '--json'], stack).stdout);
    expect(real).toMatchObject({ dryRun: false, matched: planned.matched, removed: planned.matched });
    const after = stats('--team', teamA);
    expect(after.teams.every((t) => t.staleEntries === 0)).toBe(true);
    // The current entries still serve.
    expect(team(after, 'file', teamA)?.entries).toBeGreaterThanOrEqual(3);

    // --all: every file entry of team B, nothing of team A.
    const b = runCli(['cache', 'cleanup', '--level', 'file', '--team', teamB, '--all'], stack);
    expect([b.status, b.stdout]).toEqual([0, expect.stringMatching(/^cache cleanup \(file, team .*\): removed 1 entries/)]);
    expect(team(stats('--level', 'file'), 'file', teamB)).toMatchObject({ entries: 0 });
    expect(team(stats('--level', 'file'), 'file', teamA)?.entries).toBeGreaterThanOrEqual(3);
  });

  it('refuses bad arguments with exit 2, a bad team with the registry code, and says when the orchestrator is down', async () => {
    expect(runCli(['cache', 'stats', '--level', 'session'], stack)).toMatchObject({
      status: 2,
      stderr: 'overskill: --level takes global, tenant, file (got "session")\n',
    });
    expect(runCli(['cache', 'cleanup', '--dryrun'], stack)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("Unknown option '--dryrun' (did you mean --dry-run?)"),
    });
    expect(runCli(['cache', 'cleanup', '--all=yes'], stack)).toMatchObject({ status: 2 });
    expect(runCli(['cache', 'stats', '--team', 'acme'], stack)).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^overskill: VALIDATION_FAILED: team must be a team id/),
    });
    expect(runCli(['cache', 'cleanup', '--level', 'global', '--team', teamA], stack)).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('the global level belongs to no team'),
    });

    const entries = async () => (await redis.scan('0', 'MATCH', `overskill:cache:file:${teamA}:*`, 'COUNT', 10_000))[1].length;
    const before = await entries();
    await platform.stopService('orchestrator');
    const down = runCli(['cache', 'cleanup', '--all'], stack);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
    expect(await entries()).toBe(before);
  }, 30_000);
});

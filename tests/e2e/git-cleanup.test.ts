import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// `overskill git cleanup`: repositories whose app row is gone, after a grace period, with a dry
// run first; the orchestrator (which owns the rows) says which apps exist.
describe('git-service: orphaned repository cleanup', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'git-cleanup');
    workspaces = join(dir, 'workspaces');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'git-service'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'git-cleanup-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-cleanup-test'), 10_000);
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  // Untouched for `days`: every file and folder's mtime moved back.
  const age = (path: string, days: number) => {
    const when = new Date(Date.now() - days * 86_400_000);
    const visit = (p: string) => {
      for (const entry of readdirSync(p, { withFileTypes: true })) {
        if (entry.isDirectory()) visit(join(p, entry.name));
        utimesSync(join(p, entry.name), when, when);
      }
    };
    visit(path);
    utimesSync(path, when, when);
  };
  const orphan = async () => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    return appId;
  };

  it('reports orphans in a dry run, removes only those past the grace period, and keeps every app that exists', async () => {
    const live = await rpc.send(Rpc.appCreate, { teamId: randomUUID(), name: 'Live app', template: 'empty' });
    expect(existsSync(join(workspaces, live.id, '.git'))).toBe(true);
    const oldOrphan = await orphan();
    const freshOrphan = await orphan();
    const leftover = `.overskill-tmp-${randomUUID()}-dead`;
    mkdirSync(join(workspaces, leftover));
    writeFileSync(join(workspaces, leftover, 'half-cloned'), 'x');
    mkdirSync(join(workspaces, 'notes'));
    for (const path of [live.id, oldOrphan, leftover, 'notes']) age(join(workspaces, path), 30);

    // The orchestrator's answer the cleanup relies on.
    expect((await rpc.send(Rpc.appIdsExist, { appIds: [live.id, oldOrphan, 'not-an-id'] })).existingAppIds).toEqual([live.id]);

    const dry = runCli(['git', 'cleanup', '--dry-run'], stack);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('(dry run)');
    expect(dry.stdout).toMatch(new RegExp(`would remove +${oldOrphan}`));
    expect(dry.stdout).toMatch(new RegExp(`kept \\(recent\\) +${freshOrphan}`));
    expect(dry.stdout).toContain(leftover);
    expect(dry.stdout).not.toContain(live.id);
    expect(dry.stdout).toContain('Nothing was removed. Run without --dry-run to remove 2.');
    for (const path of [live.id, oldOrphan, freshOrphan, leftover]) expect(existsSync(join(workspaces, path))).toBe(true);

    const real = runCli(['git', 'cleanup', '--json'], stack);
    expect(real.status).toBe(0);
    const report = JSON.parse(real.stdout);
    expect(report).toMatchObject({ dryRun: false, removed: 2, graceSeconds: 7 * 86_400 });
    expect(report.orphans.map((o: { directory: string; action: string }) => [o.directory, o.action]).sort()).toEqual(
      [
        [oldOrphan, 'removed'],
        [freshOrphan, 'kept_in_grace_period'],
        [leftover, 'removed'],
      ].sort(),
    );
    expect(report.orphans.find((o: { directory: string }) => o.directory === oldOrphan).sizeBytes).toBeGreaterThan(0);
    expect(existsSync(join(workspaces, oldOrphan))).toBe(false);
    expect(existsSync(join(workspaces, leftover))).toBe(false);
    for (const path of [live.id, freshOrphan, 'notes']) expect(existsSync(join(workspaces, path))).toBe(true);

    // A shorter grace period, given on the command line: the recent orphan qualifies too.
    await new Promise((r) => setTimeout(r, 1100));
    const short = JSON.parse(runCli(['git', 'cleanup', '--dry-run', '--grace', '1s', '--json'], stack).stdout);
    expect(short).toMatchObject({ graceSeconds: 1, dryRun: true, removed: 0 });
    expect(short.orphans).toEqual([expect.objectContaining({ directory: freshOrphan, action: 'would_remove' })]);
    expect(existsSync(join(workspaces, freshOrphan))).toBe(true);
    expect(runCli(['git', 'cleanup', '--grace', 'soon'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('--grace takes a duration') });
  }, 60_000);

  it('removes nothing when the orchestrator cannot say which apps exist', async () => {
    const appId = await orphan();
    age(join(workspaces, appId), 30);
    await platform.stopService('orchestrator');
    const result = runCli(['git', 'cleanup'], stack);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
    expect(existsSync(join(workspaces, appId))).toBe(true);
  }, 30_000);
});

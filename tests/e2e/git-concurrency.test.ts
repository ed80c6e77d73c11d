import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Two git-service replicas on one volume, as in production: the per-app Redis lock must
// serialize every write, whichever replica NATS hands it to.
describe('git-service: concurrent commits and restores from two replicas', () => {
  const stack = integrationStack();
  const replicas: RunningPlatform[] = [];
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'git-concurrency');
    workspaces = join(dir, 'workspaces');
    for (const name of ['a', 'b']) {
      replicas.push(
        await launchPlatform({
          root: REPO_ROOT,
          ...stack,
          workspacesDir: workspaces,
          backupDir: join(dir, 'backups'),
          logDir: join(dir, `logs-${name}`),
          services: ['git-service'],
          env: { LOG_LEVEL: 'warn' },
        }),
      );
    }
    nc = await connectNats(stack.natsUrl, 'git-concurrency-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-concurrency-test'), 20_000);
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    for (const replica of replicas) await replica.stop();
  });

  const git = (appId: string, ...args: string[]) => {
    const result = spawnSync('git', args, { cwd: join(workspaces, appId), encoding: 'utf8' });
    return { status: result.status, out: result.stdout.trim(), err: result.stderr };
  };
  const handledWrites = async (replica: RunningPlatform) => {
    const text = await (await fetch(`${replica.urls['git-service']}/metrics`)).text();
    return [...text.matchAll(/^git_operations_total\{[^}]*operation="(commit|restore)",outcome="ok"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
  };

  it('serializes them all: no failure, no index.lock error, every commit in the log, nothing lost', async () => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    writeFileSync(join(workspaces, appId, 'page.html'), 'v1\n');
    const v1 = await rpc.send(Rpc.gitRepoCommit, { appId, message: 'v1' });
    writeFileSync(join(workspaces, appId, 'page.html'), 'v2\n');
    const v2 = await rpc.send(Rpc.gitRepoCommit, { appId, message: 'v2' });

    // Two agents working on the same app at once: each writes its own file, commits, and now
    // and then restores an older version (saving whatever is pending first).
    const created: string[] = [];
    const written: string[] = [];
    const agent = async (name: string) => {
      for (let turn = 0; turn < 12; turn++) {
        const file = `${name}-${turn}.txt`;
        writeFileSync(join(workspaces, appId, file), `${name} turn ${turn}\n`);
        written.push(file);
        const commit = await rpc.send(Rpc.gitRepoCommit, {
          appId,
          message: `${name} turn ${turn}`,
          authorName: `Agent ${name}`,
          authorEmail: `${name}@agents.test`,
        });
        if (commit.created) created.push(commit.sha);
        if (turn % 3 === 2) {
          const restore = await rpc.send(Rpc.gitRepoRestore, { appId, revision: turn % 2 ? v1.sha : v2.sha, savePendingChanges: true });
          if (restore.savedPendingSha) created.push(restore.savedPendingSha);
          if (restore.created) created.push(restore.sha);
        }
      }
    };
    const before = Number(git(appId, 'rev-list', '--count', 'HEAD').out);
    const results = await Promise.allSettled([agent('ann'), agent('bob')]);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);

    // One linear history holding exactly the commits the replies reported.
    const history = git(appId, 'rev-list', '--first-parent', 'HEAD').out.split('\n');
    expect(history.length - before).toBe(created.length);
    expect(new Set(created).size).toBe(created.length);
    for (const sha of created) expect(history).toContain(sha);
    expect(Number(git(appId, 'rev-list', '--count', '--merges', 'HEAD').out)).toBe(0);
    // Every file any agent wrote is in some version.
    for (const file of written) expect(git(appId, 'log', '--format=%H', '-1', '--all', '--', file).out).toMatch(/^[0-9a-f]{40}$/);
    expect(git(appId, 'status', '--porcelain').out).toBe('');
    const fsck = git(appId, 'fsck', '--full', '--strict');
    expect(fsck.status).toBe(0);
    expect(git(appId, 'ls-files', '--others', '--', '.git').out).toBe('');
    expect(spawnSync('ls', [join(workspaces, appId, '.git')], { encoding: 'utf8' }).stdout).not.toContain('index.lock');

    // Both replicas did part of the work.
    const [a, b] = await Promise.all(replicas.map(handledWrites));
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  }, 60_000);
});

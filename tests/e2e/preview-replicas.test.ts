import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { previewRequest } from '../support/preview-http';

// Any tool-runner replica serves any app's preview: ids live in Redis, files on the shared
// volume (or in git), so a load balancer may send each request anywhere.
describe('app preview on two tool-runner replicas', () => {
  const stack = integrationStack();
  const teamId = randomUUID();
  let a: RunningPlatform;
  let b: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let ws: string;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'preview-replicas');
    ws = join(dir, 'ws');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const common = { root: REPO_ROOT, ...stack, workspacesDir: ws, backupDir: join(dir, 'b'), env: { LOG_LEVEL: 'warn' } };
    a = await launchPlatform({ ...common, logDir: join(dir, 'logs-a'), services: ['tool-runner', 'git-service', 'analytics'] });
    b = await launchPlatform({ ...common, logDir: join(dir, 'logs-b'), services: ['tool-runner'] });
    nc = await connectNats(stack.natsUrl, 'preview-replicas-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('preview-replicas-e2e'), 30_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await b?.stop();
    await a?.stop();
  });

  it('serves, rotates, ingests and checks the same preview through either replica', async () => {
    const appId = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    writeFileSync(join(ws, appId, 'index.html'), '<html><head></head><body><h1>Replicated</h1></body></html>');
    const { sha } = await client.send(Rpc.gitRepoCommit, { appId, message: 'v1' });
    // Many asks at once, answered by both replicas in the queue group: one id. (Each replica
    // here has its own port in its URL; in production PREVIEW_BASE_URL names the balancer.)
    const ids = new Set(await Promise.all(Array.from({ length: 10 }, async () => (await client.send(Rpc.previewGet, { teamId, appId })).previewId)));
    expect(ids.size).toBe(1);
    const host = `${[...ids][0]}.preview.localhost`;
    for (const port of [a.previewPort, b.previewPort]) {
      const res = await previewRequest(port, host, '/');
      expect([res.status, res.text.includes('Replicated')]).toEqual([200, true]);
      const ingest = await previewRequest(port, host, '/__overskill/ingest', {
        method: 'POST',
        body: JSON.stringify({ events: [{ kind: 'pageview', path: '/', visitorId: `v${port}`, loadMs: 5 }] }),
        headers: { origin: `http://${host}` },
      });
      expect(ingest.status).toBe(202);
    }

    const rotated = await client.send(Rpc.previewRotate, { teamId, appId });
    for (const port of [a.previewPort, b.previewPort]) {
      expect((await previewRequest(port, host, '/')).status).toBe(404);
      expect((await previewRequest(port, `${rotated.previewId}.preview.localhost`, '/')).status).toBe(200);
    }

    // Checked by whichever replica takes it; the result and screenshot are there for both.
    const checks = await Promise.all([1, 2].map(() => client.send(Rpc.previewCheck, { teamId, appId, sha }, { timeoutMs: 30_000 })));
    expect(checks.map((c) => c.outcome)).toEqual(['passed', 'passed']);
    const shots = await Promise.all(Array.from({ length: 4 }, () => client.send(Rpc.previewScreenshot, { teamId, appId, sha })));
    for (const shot of shots) expect(Buffer.from(shot.png).subarray(1, 4).toString()).toBe('PNG');
  });
});

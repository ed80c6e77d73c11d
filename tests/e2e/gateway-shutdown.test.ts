import { launchPlatform, runAllMigrations, type RunningPlatform } from '@overskill/testing';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

jest.setTimeout(120_000);

// Graceful shutdown: a request in flight when SIGTERM arrives is answered (against live NATS and
// Postgres), a request arriving while draining is refused with 503, and the process then exits.
describe('gateway graceful shutdown', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'gateway-shutdown');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      redisUrl: `${stack.redisUrl.replace(/\/\d*$/, '')}/8`,
      workspacesDir: join(dir, 'w'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['gateway', 'orchestrator', 'git-service'],
      env: { LOG_LEVEL: 'warn', GATEWAY_SHUTDOWN_DRAIN_MS: '30000' },
    });
  }, 120_000);

  afterAll(async () => {
    const orchestrator = platform?.pids().orchestrator;
    if (orchestrator) process.kill(orchestrator, 'SIGCONT');
    await platform?.stop();
  });

  it('drains the in-flight request before closing, refusing new ones meanwhile', async () => {
    const gateway = platform.urls.gateway!;
    const { key } = createTeamKey(stack, 'drain', 'owner');
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    const created = await fetch(`${gateway}/api/apps`, { method: 'POST', headers, body: JSON.stringify({ name: 'Drained', template: 'empty' }) });
    expect(created.status).toBe(201);

    // Freeze the orchestrator so the next request stays in flight in the gateway.
    const orchestrator = platform.pids().orchestrator!;
    process.kill(orchestrator, 'SIGSTOP');
    const inFlight = fetch(`${gateway}/api/apps`, { headers }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as { data: Array<{ name: string }> },
    }));
    await new Promise((r) => setTimeout(r, 1000));
    const gatewayPid = platform.pids().gateway!;
    const exited = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          process.kill(gatewayPid, 0);
        } catch {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    process.kill(gatewayPid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 500));

    const refused = await fetch(`${gateway}/api/apps`, { headers }).catch((err: Error) => err);
    if (!(refused instanceof Error)) {
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    }
    // The gateway is still waiting for the in-flight request: it has not exited.
    let stillRunning = true;
    try {
      process.kill(gatewayPid, 0);
    } catch {
      stillRunning = false;
    }
    expect(stillRunning).toBe(true);

    process.kill(orchestrator, 'SIGCONT');
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.body.data.map((a) => a.name)).toEqual(['Drained']);
    await exited;
  });
});

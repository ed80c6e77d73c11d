import { launchPlatform, runAllMigrations, startStack, type RunningPlatform, type RunningStack } from '@overskill/testing';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, jsonBody, REPO_ROOT, scratchDir } from '../support/integration-env';

// Its own stack: stopping servers must not disturb the other suites.
describe('dependency outage and recovery', () => {
  let stack: RunningStack;
  let platform: RunningPlatform;
  let gateway: string;

  beforeAll(async () => {
    const dir = scratchDir(integrationStack().dataDir, 'outage');
    stack = await startStack({ dataDir: join(dir, 'stack') });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: stack.databaseUrl,
      redisUrl: stack.redisUrl,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['gateway', 'orchestrator'],
      env: { LOG_LEVEL: 'warn' },
    });
    gateway = platform.urls.gateway!;
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await stack?.stop();
  });

  async function readiness(url: string): Promise<{ status: number; checks: Record<string, { status: string; error?: string }> }> {
    const res = await fetch(`${url}/health/ready`);
    return { status: res.status, checks: (await jsonBody(res)).checks };
  }

  async function eventually(url: string, expected: number): Promise<Awaited<ReturnType<typeof readiness>>> {
    let last = await readiness(url);
    for (let i = 0; i < 100 && last.status !== expected; i++) {
      await new Promise((r) => setTimeout(r, 200));
      last = await readiness(url);
    }
    return last;
  }

  it.each(['redis', 'postgres'] as const)('flips readiness to 503 naming %s, and recovers without a restart', async (server) => {
    const pidsBefore = platform.pids();
    expect((await readiness(gateway)).status).toBe(200);

    await stack.stopServer(server);
    const down = await eventually(gateway, 503);
    expect(down.status).toBe(503);
    expect(down.checks[server]).toMatchObject({ status: 'down', error: expect.any(String) });
    expect(down.checks.nats?.status).toBe('up');
    expect(JSON.stringify(down.checks)).not.toContain('overskill:overskill@'); // no credentials in errors
    const detailed = await fetch(`${gateway}/health/detailed`);
    expect(detailed.status).toBe(503);
    expect((await jsonBody(detailed)).checks[server].status).toBe('down');
    if (server === 'postgres') {
      const orchestrator = await eventually(platform.urls.orchestrator!, 503);
      expect(orchestrator.checks.postgres?.status).toBe('down');
    }

    await stack.startServer(server);
    const up = await eventually(gateway, 200);
    expect(up.status).toBe(200);
    expect(up.checks[server]?.status).toBe('up');
    if (server === 'postgres') expect((await eventually(platform.urls.orchestrator!, 200)).status).toBe(200);
    // Same processes: recovery needed no restart.
    expect(platform.pids()).toEqual(pidsBefore);
  });

  it('answers 503 with Retry-After at once while nats-server is down, and serves again after', async () => {
    const { key } = createTeamKey(stack, 'outage-nats', 'owner');
    const list = () => fetch(`${gateway}/api/apps`, { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(5000) });
    expect((await list()).status).toBe(200);

    await stack.stopServer('nats');
    try {
      // The key is cached; the list needs the orchestrator over NATS.
      let res = await list();
      for (let i = 0; i < 50 && res.status === 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await list();
      }
      const started = Date.now();
      res = await list();
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.headers.get('retry-after')).toBe('2');
      expect(await jsonBody(res)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringContaining('NATS') });
    } finally {
      await stack.startServer('nats');
    }
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await list().catch(() => undefined))?.status ?? 0;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
  });
});


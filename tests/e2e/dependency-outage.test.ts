import { launchPlatform, runAllMigrations, startStack, type RunningPlatform, type RunningStack } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, jsonBody, REPO_ROOT, scratchDir } from '../support/integration-env';
import { processTree, signalAll } from '../support/processes';

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
      // The app list is this suite's probe of the read path through the orchestrator to PostgreSQL;
      // with its cache on, the replica's copy would answer it for up to the TTL whatever is down.
      env: { LOG_LEVEL: 'warn', GATEWAY_APP_LIST_CACHE_TTL_MS: '0' },
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

  // Reads until the gateway answers 200 again (the servers are back).
  async function servesAgain(list: () => Promise<Response>): Promise<number> {
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await list().catch(() => undefined))?.status ?? 0;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    return status;
  }

  it('answers 503 with Retry-After, never 500, while PostgreSQL is down', async () => {
    const { key } = createTeamKey(stack, 'outage-postgres', 'owner');
    const list = () => fetch(`${gateway}/api/apps`, { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(10_000) });
    expect((await list()).status).toBe(200);

    await stack.stopServer('postgres');
    const statuses = new Set<number>();
    try {
      // The key is cached; the list needs the orchestrator's database. Its pool loses its
      // connections (terminated by the shutdown), then cannot open new ones (refused).
      for (let i = 0; i < 10; i++) {
        const res = await list();
        statuses.add(res.status);
        if (res.status !== 503) continue;
        expect(res.headers.get('retry-after')).toBe('2');
        const body = await jsonBody(res);
        expect(body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/PostgreSQL|datastore/) });
        expect(JSON.stringify(body)).not.toMatch(/overskill:overskill@|127\.0\.0\.1|ECONNREFUSED/);
      }
    } finally {
      await stack.startServer('postgres');
    }
    expect([...statuses]).toEqual([503]);
    expect(await servesAgain(list)).toBe(200);
  });

  it('answers 503 with Retry-After within the deadline while PostgreSQL is frozen (every backend stopped)', async () => {
    const { key } = createTeamKey(stack, 'outage-postgres-frozen', 'owner');
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    const list = () => fetch(`${gateway}/api/apps`, { headers, signal: AbortSignal.timeout(15_000) });
    // No git-service here to create an app with: finding (or not) the app is the query that waits.
    const post = () =>
      fetch(`${gateway}/api/apps/${randomUUID()}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ content: 'hello' }),
        signal: AbortSignal.timeout(15_000),
      });
    expect((await list()).status).toBe(200);

    // Pooled connections stay open and their queries are never answered; new ones never finish
    // connecting. Without deadlines these requests would wait until PostgreSQL woke.
    const frozen = processTree(stack.pids().postgres!);
    signalAll(frozen, 'SIGSTOP');
    try {
      const answers = await Promise.all([list(), list(), list(), post()]);
      for (const res of answers) {
        // 503 from the query and acquire deadlines, not 504 from the gateway's 10 s RPC deadline.
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('2');
        expect(await jsonBody(res)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/PostgreSQL/) });
      }
      expect((await eventually(platform.urls.orchestrator!, 503)).checks.postgres?.status).toBe('down');
    } finally {
      signalAll(frozen, 'SIGCONT');
    }
    expect(await servesAgain(list)).toBe(200);
    expect((await eventually(platform.urls.orchestrator!, 200)).status).toBe(200);
  });

  it('answers every request within its deadline while Redis is paused (the rate limiter fails open)', async () => {
    const { key } = createTeamKey(stack, 'outage-redis-pause', 'owner');
    const list = () => fetch(`${gateway}/api/apps`, { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(10_000) });
    expect((await list()).status).toBe(200);

    const pid = stack.pids().redis!;
    process.kill(pid, 'SIGSTOP');
    try {
      // The socket stays open and Redis never answers: every command runs into its timeout.
      const answers = await Promise.all([list(), list(), list()]);
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200]);
      const down = await eventually(gateway, 503);
      expect(down.checks.redis).toMatchObject({ status: 'down' });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await eventually(gateway, 200)).status).toBe(200);
  });

  it('answers 503 with Retry-After within the deadline while nats-server is paused, and serves again after', async () => {
    const { key } = createTeamKey(stack, 'outage-nats-pause', 'owner');
    const list = () => fetch(`${gateway}/api/apps`, { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(9000) });
    expect((await list()).status).toBe(200);
    const pidsBefore = platform.pids();

    const pid = stack.pids().nats!;
    process.kill(pid, 'SIGSTOP');
    try {
      // Sent into a socket nobody reads: the link's pings go unanswered and it is declared stale
      // well before the request's own 10 s timeout; the request is failed at that moment.
      const waiting = await list();
      expect(waiting.status).toBe(503);
      expect(waiting.headers.get('retry-after')).toBe('2');
      expect(await jsonBody(waiting)).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringContaining('NATS') });
      // While the link is down, refused at once.
      const refused = await list();
      expect(refused.status).toBe(503);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await servesAgain(list)).toBe(200);
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

import { orchestratorV1, Rpc, SERVICE_NAMES, type ServiceName } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { AnthropicFake, launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const { RunStatus } = orchestratorV1;

jest.setTimeout(120_000);

// SIGTERM is the one way a service is asked to stop (Kubernetes, Compose, Ctrl-C of npm start):
// every service drains and exits 0, and work in flight when the signal arrives is finished.
describe('SIGTERM: every service drains and exits 0', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  let platform: RunningPlatform;
  let logDir: string;
  let diagnosticsDir: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  // The run of the first test (the shared stack's queue may hand this orchestrator other suites' runs too).
  let drainedRunId = '';

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'shutdown');
    logDir = join(dir, 'logs');
    diagnosticsDir = join(dir, 'diagnostics');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir,
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: await anthropic.start(), LOG_LEVEL: 'info', DIAGNOSTICS_DIR: diagnosticsDir },
    });
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('shutdown-test'), 20_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await anthropic.stop();
  });

  const log = (service: ServiceName) => readFileSync(join(logDir, `${service}.log`), 'utf8');

  it('the orchestrator finishes the run it is working on, then exits 0', async () => {
    const teamId = randomUUID();
    const app = await rpc.send(Rpc.appCreate, { teamId, name: 'Drained', description: '', template: 'empty' });
    // The model answers slowly: SIGTERM lands while the run waits on it.
    anthropic.script(
      { delayMs: 1500, stop_reason: 'tool_use', content: [{ type: 'tool_use', name: 'write_file', input: { path: 'drained.txt', content: 'done\n' } }] },
      { content: [{ type: 'text', text: 'Done.' }] },
    );
    const { runId } = await rpc.send(Rpc.messagePost, { teamId, appId: app.id, content: 'Write drained.txt', authorId: 'u' });
    drainedRunId = runId;
    while (anthropic.requests.length === 0) await new Promise((r) => setTimeout(r, 20));

    const exit = await platform.stopService('orchestrator', 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null, forced: false });
    expect(log('orchestrator')).toContain('shut down cleanly');

    await platform.start('orchestrator');
    const run = await rpc.send(Rpc.runGet, { teamId, runId });
    expect(run.status).toBe(RunStatus.COMPLETED);
    expect(run.commitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(anthropic.requests).toHaveLength(2);
  });

  it('SIGUSR2 writes a heap snapshot to DIAGNOSTICS_DIR and the service keeps serving', async () => {
    const pid = platform.pids()['git-service']!;
    process.kill(pid, 'SIGUSR2');
    let files: string[] = [];
    for (let i = 0; i < 300 && !log('git-service').includes('heap snapshot written'); i++) await new Promise((r) => setTimeout(r, 100));
    files = readdirSync(diagnosticsDir);
    expect(files).toEqual([expect.stringMatching(new RegExp(`^git-service-${pid}-.*\\.heapsnapshot$`))]);
    const snapshot = join(diagnosticsDir, files[0]!);
    // A complete V8 snapshot (JSON with its meta first), readable only by the service's user.
    expect(readFileSync(snapshot, 'utf8').slice(0, 20)).toBe('{"snapshot":{"meta":');
    expect(statSync(diagnosticsDir).mode & 0o777).toBe(0o700);
    expect(platform.pids()['git-service']).toBe(pid);
    expect((await fetch(`${platform.urls['git-service']}/health/ready`)).status).toBe(200);
  });

  it('SQL logging switched on at run time logs statements without their values, then stops', async () => {
    const sqlLines = () =>
      log('orchestrator')
        .split('\n')
        .filter((line) => line.includes('"component":"sql"'));
    const on = runCli(['db', 'sql-logging', 'on', '--service', 'orchestrator', '--for', '5m', '--json'], stack);
    expect(on.status).toBe(0);
    expect(JSON.parse(on.stdout).replicas).toEqual([expect.objectContaining({ service: 'orchestrator', enabled: true, until: expect.any(String) })]);

    const secret = `sql-probe-${randomUUID()}`;
    await rpc.send(Rpc.appCreate, { teamId: randomUUID(), name: secret, description: '', template: 'empty' });
    for (let i = 0; i < 100 && !sqlLines().some((line) => /INSERT INTO \S*apps/.test(line)); i++) await new Promise((r) => setTimeout(r, 50));
    const insert = sqlLines().find((line) => /INSERT INTO \S*apps/.test(line));
    expect(JSON.parse(insert!)).toMatchObject({ level: 'INFO', message: 'sql statement', schema: 'orchestrator', parameters: expect.any(Number) });
    expect(sqlLines().join('\n')).not.toContain(secret);

    const off = runCli(['db', 'sql-logging', 'off', '--service', 'orchestrator', '--json'], stack);
    expect(JSON.parse(off.stdout).replicas).toEqual([expect.objectContaining({ service: 'orchestrator', enabled: false, until: null })]);
    // Lines written before the switch may still be on their way to the log file: none may be newer.
    const offAt = new Date().toISOString();
    await rpc.send(Rpc.appCreate, { teamId: randomUUID(), name: 'after-off', description: '', template: 'empty' });
    await new Promise((r) => setTimeout(r, 500));
    expect(sqlLines().filter((line) => String((JSON.parse(line) as { timestamp: string }).timestamp) > offAt)).toEqual([]);

    for (const bad of [
      ['db', 'sql-logging', 'maybe'],
      ['db', 'sql-logging', 'on', '--for', '2y'],
      ['db', 'sql-logging', 'on', '--service', 'nope'],
    ]) {
      expect(runCli(bad, stack).status).toBe(2);
    }
  });

  it("every service's log lines carry the operations guide's fields", () => {
    const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
    const lines = SERVICE_NAMES.flatMap((service) =>
      log(service)
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line): Record<string, unknown> => ({ ...(JSON.parse(line) as Record<string, unknown>), service })),
    );
    for (const service of SERVICE_NAMES) expect(lines.filter((l) => l.service === service).length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(new Date(String(line['timestamp'])).toISOString()).toBe(line['timestamp']);
      expect(LEVELS).toContain(line['level']);
      expect(line['component']).toEqual(expect.any(String));
      expect(line['message']).toEqual(expect.any(String));
      expect(line).not.toHaveProperty('msg');
      expect(line).not.toHaveProperty('time');
    }
    // The run of the first test: its end is one line with the run id, the outcome and how long it took.
    const finished = lines.find((l) => l.service === 'orchestrator' && l['message'] === 'run finished' && l['runId'] === drainedRunId);
    expect(finished).toMatchObject({ level: 'INFO', runId: drainedRunId, status: 'completed', duration: expect.any(Number) });
    expect(lines.some((l) => typeof l['correlationId'] === 'string')).toBe(true);
  });

  it.each(SERVICE_NAMES.map((service) => [service]))('%s exits 0 on SIGTERM with its drain logged', async (service) => {
    const exit = await platform.stopService(service, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null, forced: false });
    const lines = log(service);
    expect(lines).toContain('shutting down');
    expect(lines).toContain('shut down cleanly');
    expect(lines).not.toContain('shutdown failed');
  });
});

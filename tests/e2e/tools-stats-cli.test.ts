import { Events, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// `overskill tools stats`: analytics' record of every tool execution (events.tool.executed.v1) as
// the seed's tools:stats, with the catalog naming the tools never used.
describe('operator CLI: tools stats', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const team = randomUUID();

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'tools-stats');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'ws'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['analytics', 'tool-runner'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'tools-stats-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('tools-stats-test'));
    const executed = (tool: string, outcome: string, durationMs: number, daysAgo = 0) =>
      publishDurable(
        nc,
        Events.toolExecuted,
        {
          eventId: randomUUID(),
          occurredAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
          teamId: team,
          appId: randomUUID(),
          runId: randomUUID(),
          toolUseId: randomUUID(),
          tool,
          outcome,
          durationMs,
        },
        { msgId: randomUUID() },
      );
    for (let i = 1; i <= 20; i++) await executed('read_file', 'ok', i);
    for (let i = 0; i < 8; i++) await executed('write_file', 'ok', 10);
    await executed('write_file', 'TOOL_FILE_TOO_LARGE', 2);
    await executed('write_file', 'APP_BUSY', 8000);
    await executed('search_files', 'ok', 30);
    // Outside a 7-day window.
    await executed('web_search', 'ok', 500, 10);
    for (let i = 0; i < 100; i++) {
      const { rows } = await rpc.send(Rpc.analyticsToolStatsRead, { teamId: team, since: new Date(Date.now() - 30 * 86_400_000).toISOString() });
      if (rows.reduce((a, r) => a + Number(r.count), 0) === 32) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('ranks tools by use with failure rates, codes, average and P95, and names the unused ones', () => {
    const r = runCli(['tools', 'stats', '--team', team, '--json'], stack);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ teamId: team, days: 7, executions: 31, failures: 2, mostUsed: ['read_file', 'write_file', 'search_files'] });
    const by = Object.fromEntries(report.tools.map((t: { tool: string }) => [t.tool, t]));
    // P95 of 1..20 ms by linear interpolation: 19.05.
    expect(by.read_file).toMatchObject({ uses: 20, failures: 0, failureRate: 0, avgMs: 10.5, p95OkMs: 19.1 });
    expect(by.write_file).toMatchObject({ uses: 10, failures: 2, failureRate: 0.2, failuresByCode: { TOOL_FILE_TOO_LARGE: 1, APP_BUSY: 1 }, p95OkMs: 10 });
    expect(by.write_file.avgMs).toBeCloseTo((8 * 10 + 2 + 8000) / 10, 1);
    // From the catalog: enabled and never used in the window.
    expect(by.web_search).toMatchObject({ uses: 0, failureRate: null, avgMs: null });
    expect(report.leastUsed).toContain('web_search');
    expect(report.leastUsed).not.toContain('read_file');

    const month = JSON.parse(runCli(['tools', 'stats', '--team', team, '--days', '30', '--json'], stack).stdout);
    expect(month.executions).toBe(32);

    const text = runCli(['tools', 'stats', '--team', team], stack);
    expect(text.stdout).toMatch(/^write_file +10 +2 +20\.0% +808\.2 +10\.0 {2}(TOOL_FILE_TOO_LARGE 1, APP_BUSY 1|APP_BUSY 1, TOOL_FILE_TOO_LARGE 1)$/m);
    expect(text.stdout).toContain('most used: read_file, write_file, search_files');
  });

  it('says when a team ran no tools, and refuses bad arguments', () => {
    expect(runCli(['tools', 'stats', '--team', randomUUID()], stack)).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^no tool executions for team .* in the last 7 days\n$/),
    });
    expect(runCli(['tools', 'stats'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('missing required option --team') });
    expect(runCli(['tools', 'stats', '--team', team, '--days', '0'], stack)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('--days takes a whole number'),
    });
    expect(runCli(['tools', 'stats', '--team', 'acme'], stack)).toMatchObject({ status: 1, stderr: expect.stringMatching(/^overskill: TEAM_NOT_FOUND: /) });
  });

  it('says so when analytics is down', async () => {
    await platform.stopService('analytics');
    const r = runCli(['tools', 'stats', '--team', team], stack);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
  }, 30_000);
});

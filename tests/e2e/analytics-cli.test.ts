import { Events, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { freePort, launchPlatform, runAllMigrations, stackNatsCredentials, withPostgresClient, type RunningPlatform } from '@overskill/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// `overskill analytics test|rebuild`, `cost report` and `performance report` against the real
// stack: the numbers equal a recount of the stored facts, the HTML has no external reference.
describe('analytics CLI: test, rebuild, cost and performance reports', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let dir: string;
  const teamId = randomUUID();
  const apps = [randomUUID(), randomUUID()];
  const range = ['--team', teamId, '--from', '2026-05-01', '--to', '2026-05-03'];
  let published = 0;
  let prometheus: ChildProcess | undefined;

  beforeAll(async () => {
    dir = scratchDir(stack.dataDir, 'analytics-cli');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'ws'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['analytics'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'analytics-cli-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('analytics-cli-test'));
    for (let i = 0; i < 12; i++) {
      const appId = apps[i % 2];
      const day = `2026-05-0${1 + (i % 3)}`;
      const u = {
        eventId: randomUUID(),
        occurredAt: `${day}T10:00:00.000Z`,
        teamId,
        appId,
        runId: '',
        apiKeyId: `key-${i % 3}`,
        requestedAlias: 'primary',
        modelAlias: i % 4 === 0 ? 'fallback' : 'primary',
        provider: 'anthropic',
        providerModel: 'claude',
        inputTokens: 100n * BigInt(i + 1),
        outputTokens: 10n,
        cacheReadInputTokens: 0n,
        cacheCreationInputTokens: 0n,
        costUsd: i % 5 === 0 ? 0 : 0.01 * (i + 1),
        priceTableVersion: '1',
        latencyMs: 50 + i * 10,
        attempts: 1,
        fallbackUsed: false,
        cacheHit: i % 5 === 0,
        streamed: false,
        outcome: 'ok',
      };
      await publishDurable(nc, Events.aiUsageRecorded, u, { msgId: u.eventId });
      const t = {
        eventId: randomUUID(),
        occurredAt: `${day}T11:00:00.000Z`,
        teamId,
        appId,
        runId: '',
        toolUseId: 'x',
        tool: i % 3 ? 'write_file' : 'read_file',
        outcome: i % 4 ? 'ok' : 'TOOL_FAILED',
        durationMs: 5 + i,
        bytesWritten: 0n,
        outputBytes: 0n,
        outputTruncated: false,
      };
      await publishDurable(nc, Events.toolExecuted, t, { msgId: t.eventId });
      published += 2;
    }
    // Stored before the tests read.
    for (let i = 0; i < 100; i++) {
      const n = await withPostgresClient(stack.databaseUrl, async (c) =>
        Number((await c.query('SELECT count(*) AS n FROM analytics.events WHERE team_id = $1', [teamId])).rows[0].n),
      );
      if (n === published) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await nc?.close();
    await platform?.stop();
  });

  const recount = () =>
    withPostgresClient(stack.databaseUrl, async (c) => {
      const { rows } = await c.query(
        `SELECT coalesce(app_id::text, '') AS app, count(*) AS n, sum((attributes->>'costUsd')::float8) AS cost,
                count(*) FILTER (WHERE (attributes->>'cacheHit')::boolean) AS hits
           FROM analytics.events WHERE team_id = $1 AND type = 'events.aiusage.recorded.v1' GROUP BY 1`,
        [teamId],
      );
      return rows.map((r) => ({ app: String(r.app), requests: Number(r.n), cost: Number(r.cost), hits: Number(r.hits) }));
    });

  it('analytics test: a probe is stored and aggregated, with its lag and the backlog', () => {
    const res = runCli(['analytics', 'test', '--json'], stack);
    expect(res.status).toBe(0);
    const body = JSON.parse(res.stdout);
    expect(body).toMatchObject({ ok: true, error: null });
    expect(body.lagMs).toBeGreaterThan(0);
    expect(body.pending).toBeGreaterThanOrEqual(0);
    const text = runCli(['analytics', 'test'], stack);
    expect(text.stdout).toMatch(/^analytics: ok — probe .* stored and aggregated once/);
  });

  it('cost report: spend by app and model equals a recount of the facts, as text, JSON and self-contained HTML', async () => {
    const facts = await recount();
    const res = runCli(['cost', 'report', ...range, '--json'], stack);
    expect(res.status).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r).toMatchObject({ report: 'cost', empty: false, from: '2026-05-01', to: '2026-05-03', costModel: expect.any(String) });
    expect(r.totals.aiRequests).toBe(facts.reduce((a, f) => a + f.requests, 0));
    expect(r.totals.aiCostUsd).toBeCloseTo(
      facts.reduce((a, f) => a + f.cost, 0),
      5,
    );
    expect(r.totals.aiCacheHits).toBe(facts.reduce((a, f) => a + f.hits, 0));
    for (const f of facts) {
      expect(r.apps.find((a: { appId: string }) => a.appId === f.app)).toMatchObject({ aiRequests: f.requests, aiCostUsd: expect.closeTo(f.cost, 5) });
    }
    expect(r.models.map((m: { model: string }) => m.model).sort()).toEqual(['fallback', 'primary']);
    expect(r.teams).toEqual([expect.objectContaining({ teamId, aiRequests: 12 })]);

    const file = join(dir, 'cost.html');
    const text = runCli(['cost', 'report', ...range, '--html', file], stack);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`AI spend $${r.totals.aiCostUsd.toFixed(2)} (12 requests`);
    expect(text.stdout).toContain(`HTML report written to ${file}`);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).not.toMatch(/https?:\/\/|<script|<link|\ssrc=|url\(|@import/i);
    expect(html).toContain(apps[0]);
  });

  it('performance report: latency percentiles and error rates from the facts; works without a reachable Prometheus', async () => {
    const res = runCli(['performance', 'report', ...range, '--json', '--prometheus', 'http://127.0.0.1:9'], stack);
    expect(res.status).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r.prometheus).toMatchObject({ reachable: false, url: 'http://127.0.0.1:9' });
    const tools = await withPostgresClient(
      stack.databaseUrl,
      async (c) =>
        (
          await c.query(
            `SELECT attributes->>'tool' AS tool, count(*) AS n, count(*) FILTER (WHERE attributes->>'outcome' <> 'ok') AS failed,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY (attributes->>'durationMs')::float8) AS p95
             FROM analytics.events WHERE team_id = $1 AND type = 'events.tool.executed.v1' GROUP BY 1`,
            [teamId],
          )
        ).rows,
    );
    for (const t of tools) {
      expect(r.latencies.find((l: { kind: string; name: string }) => l.kind === 'tool' && l.name === t.tool)).toMatchObject({
        count: Number(t.n),
        errors: Number(t.failed),
        p95Ms: Math.round(Number(t.p95) * 10) / 10,
      });
    }
    expect(r.days.map((d: { toolCalls: number }) => d.toolCalls)).toEqual([4, 4, 4]);
    const file = join(dir, 'perf.html');
    const text = runCli(['performance', 'report', ...range, '--html', file], stack);
    expect(text.stdout).toMatch(/no Prometheus configured/);
    expect(text.stdout).toMatch(/write_file +\d+ +err/);
    expect(readFileSync(file, 'utf8')).not.toMatch(/https?:\/\/|<script|<link|\ssrc=/i);
  });

  it('analytics rebuild: re-derives the range with progress on stderr, and the reports read the same', async () => {
    const before = JSON.parse(runCli(['cost', 'report', ...range, '--json'], stack).stdout);
    await withPostgresClient(stack.databaseUrl, (c) => c.query('UPDATE analytics.daily_aggregates SET value = value * 3 WHERE team_id = $1', [teamId]));
    const res = runCli(['analytics', 'rebuild', ...range, '--json'], stack);
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ days: 3, events: published, team: teamId });
    const progress = res.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3]);
    expect(progress[0]).toMatchObject({ progress: 'analytics rebuild', unit: 'days', total: 3, etaS: expect.any(Number), ratePerS: expect.any(Number) });
    const after = JSON.parse(runCli(['cost', 'report', ...range, '--json'], stack).stdout);
    expect(after.totals).toEqual(before.totals);
  });

  it('says so when a range has no data', () => {
    const args = ['--team', teamId, '--month', '2025-02'];
    const cost = runCli(['cost', 'report', ...args], stack);
    expect([cost.status, cost.stdout]).toEqual([0, expect.stringContaining('No activity recorded in this range: nothing to report.')]);
    const perf = JSON.parse(runCli(['performance', 'report', ...args, '--json'], stack).stdout);
    expect(perf).toMatchObject({ empty: true, from: '2025-02-01', to: '2025-02-28', latencies: [] });
  });

  it.each([
    [['analytics', 'rebuild', '--dryrun'], /Unknown option '--dryrun'/],
    [['analytics', 'test', '--timeout', 'soon'], /--timeout takes seconds/],
    [['cost', 'report', '--month', '2026-5'], /--month takes YYYY-MM/],
    [['cost', 'report', '--json=yes'], /--json/],
  ])('refuses %j with exit 2 and a usable message', (args, message) => {
    const res = runCli(args, stack);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
  });

  it('cannot write the HTML report to a missing folder: a clear error', () => {
    const res = runCli(['cost', 'report', ...range, '--html', join(dir, 'missing', 'cost.html')], stack);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/cannot write .*ENOENT/);
  });

  it('performance report: route and subject latency from a real Prometheus that scraped analytics', async () => {
    const port = await freePort();
    const target = new URL(platform.urls.analytics!).host;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: analytics\n    static_configs:\n      - targets: ['${target}']\n`);
    prometheus = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}`;
    const samples = async () => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('count_over_time(up[5m])')}`).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }) : undefined;
      return Number(body?.data.result[0]?.value[1] ?? 0);
    };
    // Traffic for the histograms: HTTP health checks and NATS requests to analytics, between scrapes.
    for (let i = 0; i < 100 && (await samples()) < 3; i++) {
      await fetch(`${platform.urls.analytics}/health/live`);
      await rpc.send(Rpc.analyticsBusinessRead, { teamId, from: '2025-01-01', to: '2025-01-02' });
      await new Promise((r) => setTimeout(r, 200));
    }
    const today = new Date().toISOString().slice(0, 10);
    const res = runCli(['performance', 'report', '--from', today, '--to', today, '--prometheus', url, '--json'], stack);
    expect(res.status).toBe(0);
    const r = JSON.parse(res.stdout);
    expect(r.prometheus).toMatchObject({ reachable: true, url });
    expect(r.prometheus.subjects).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'analytics.business.read.v1', p95Ms: expect.any(Number), errorRate: 0 })]),
    );
    expect(r.prometheus.routes).toEqual(expect.arrayContaining([expect.objectContaining({ name: '/health/live', p50Ms: expect.any(Number) })]));
    const text = runCli(['performance', 'report', '--from', today, '--to', today, '--prometheus', url], stack).stdout;
    expect(text).toContain(`Route and subject latency from Prometheus at ${url}`);
    expect(text).toMatch(/analytics\.business\.read\.v1 +[\d.]+\/s/);
  }, 60_000);

  it('platform down: NATS unreachable is a clear error; analytics stopped fails the test', async () => {
    const down = runCli(['analytics', 'test'], { ...stack, natsUrl: 'nats://127.0.0.1:9' });
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/cannot reach NATS at nats:\/\/127.0.0.1:9/);
    expect(runCli(['cost', 'report'], { ...stack, natsUrl: 'nats://127.0.0.1:9' }).stderr).toMatch(/cannot reach NATS/);
    await platform.stopService('analytics');
    const res = runCli(['analytics', 'test', '--json', '--timeout', '3'], stack);
    expect(res.status).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, error: expect.stringMatching(/analytics did not answer/) });
    const report = runCli(['cost', 'report'], stack);
    expect(report.status).toBe(1);
    expect(report.stderr).not.toMatch(/\bat .*\.[jt]s:\d+/);
  }, 30_000);
});

import { Events, gatewayV1, orchestratorV1, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  launchPlatform,
  runAllMigrations,
  startStack,
  stackNatsCredentials,
  withPostgresClient,
  type RunningPlatform,
  type RunningStack,
} from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// The daily aggregates analytics keeps equal a recount from the raw facts: after duplicate
// publishes, after every fact is delivered a second time (the consumer reset), and after a
// rebuild of aggregates that were damaged. A private stack: the test deletes analytics' consumer.
describe('analytics daily aggregates', () => {
  let stack: RunningStack;
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const teamA = randomUUID();
  const teamB = randomUUID();
  const appA = randomUUID();
  const appB = randomUUID();
  let published = 0;

  beforeAll(async () => {
    const dir = scratchDir(integrationStack().dataDir, 'analytics-aggregates');
    stack = await startStack({ dataDir: join(dir, 'stack') });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const { natsUrl, natsSeeds, databaseUrl, redisUrl } = stack;
    platform = await launchPlatform({
      root: REPO_ROOT,
      natsUrl,
      natsSeeds,
      databaseUrl,
      redisUrl,
      workspacesDir: join(dir, 'ws'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['analytics'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'analytics-aggregates-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('analytics-aggregates-test'), 15_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await stack?.stop();
  });

  const usage = (
    teamId: string,
    appId: string,
    day: string,
    costUsd: number,
    over: Partial<{ cacheHit: boolean; apiKeyId: string; outcome: string }> = {},
  ) => ({
    eventId: randomUUID(),
    occurredAt: `${day}T10:00:00.000Z`,
    teamId,
    appId,
    runId: randomUUID(),
    apiKeyId: over.apiKeyId ?? 'key-1',
    requestedAlias: 'primary',
    modelAlias: 'primary',
    provider: 'anthropic',
    providerModel: 'claude',
    inputTokens: over.cacheHit ? 0n : 100n,
    outputTokens: over.cacheHit ? 0n : 10n,
    cacheReadInputTokens: 0n,
    cacheCreationInputTokens: 0n,
    costUsd: over.cacheHit ? 0 : costUsd,
    priceTableVersion: '1',
    latencyMs: 20,
    attempts: 1,
    fallbackUsed: false,
    cacheHit: over.cacheHit ?? false,
    streamed: false,
    outcome: over.outcome ?? 'ok',
  });
  const tool = (teamId: string, appId: string, day: string, name: string, outcome = 'ok') => ({
    eventId: randomUUID(),
    occurredAt: `${day}T11:00:00.000Z`,
    teamId,
    appId,
    runId: randomUUID(),
    toolUseId: 'tu',
    tool: name,
    outcome,
    durationMs: 12.5,
    bytesWritten: 0n,
    outputBytes: 0n,
    outputTruncated: false,
  });
  const audit = (teamId: string, day: string, action: string, actor: string, result = 'ok') => ({
    eventId: randomUUID(),
    occurredAt: `${day}T09:00:00.000Z`,
    teamId,
    actor,
    keyPrefix: 'osk_x',
    action,
    target: '',
    ip: '127.0.0.1',
    result,
    status: result === 'ok' ? 201 : 400,
    correlationId: 'c',
  });
  const run = (teamId: string, appId: string, day: string, status: orchestratorV1.RunStatus) => ({
    runId: randomUUID(),
    appId,
    teamId,
    status,
    iterations: 2,
    commitSha: '',
    errorCode: '',
    occurredAt: `${day}T12:00:00.000Z`,
  });

  async function publishAll(twice = false): Promise<void> {
    const day1 = '2026-03-01';
    const day2 = '2026-03-02';
    const facts: Array<() => Promise<void>> = [];
    for (const [teamId, appId] of [
      [teamA, appA],
      [teamB, appB],
    ]) {
      for (const f of [
        usage(teamId, appId, day1, 0.25),
        usage(teamId, appId, day1, 0.5, { apiKeyId: 'key-2' }),
        usage(teamId, appId, day2, 0, { cacheHit: true }),
        usage(teamId, '', day2, 1, { outcome: 'AI_PROVIDER_UNAVAILABLE' }),
      ]) {
        facts.push(() => publishDurable(nc, Events.aiUsageRecorded, f, { msgId: f.eventId }));
      }
      for (const f of [
        tool(teamId, appId, day1, 'write_file'),
        tool(teamId, appId, day1, 'write_file', 'TOOL_FAILED'),
        tool(teamId, appId, day2, 'read_file'),
      ]) {
        facts.push(() => publishDurable(nc, Events.toolExecuted, f, { msgId: f.eventId }));
      }
      for (const f of [
        audit(teamId, day1, 'POST /api/apps', 'key-1'),
        audit(teamId, day2, 'POST /api/apps', 'key-3'),
        audit(teamId, day2, 'POST /api/apps', 'key-3', 'VALIDATION_FAILED'),
      ]) {
        facts.push(() =>
          publishDurable(nc, Events.auditRecorded, f as Parameters<typeof publishDurable<typeof gatewayV1.AuditRecordedSchema>>[2], { msgId: f.eventId }),
        );
      }
      for (const f of [run(teamId, appId, day1, orchestratorV1.RunStatus.COMPLETED), run(teamId, appId, day2, orchestratorV1.RunStatus.FAILED)]) {
        const msgId = randomUUID();
        facts.push(() => publishDurable(nc, Events.runFinished, f, { msgId }));
      }
    }
    for (const publish of facts) {
      await publish();
      if (twice) await publish(); // a retried publish
    }
    published += facts.length;
  }

  const query = <T>(sql: string, values: unknown[] = []) => withPostgresClient(stack.databaseUrl, async (c) => (await c.query(sql, values)).rows as T[]);
  const teams = () => [teamA, teamB];

  // Both sides as "day|team|app|metric|dim" -> value, for the metrics a plain SQL count can give.
  async function kept(): Promise<Record<string, number>> {
    const rows = await query<{ k: string; v: number }>(
      `SELECT concat_ws('|', to_char(day, 'YYYY-MM-DD'), team_id, app_id, metric, dim) AS k, value AS v FROM analytics.daily_aggregates
        WHERE team_id = ANY($1::uuid[]) AND metric IN ('apps_created', 'ai_requests', 'ai_cost_usd', 'ai_cache_hits', 'tool_calls', 'tool_failures', 'runs')`,
      [teams()],
    );
    return Object.fromEntries(rows.map((r) => [r.k, Math.round(Number(r.v) * 1e6) / 1e6]));
  }

  async function recount(): Promise<Record<string, number>> {
    const rows = await query<{ k: string; v: number }>(
      `WITH e AS (SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, team_id, coalesce(app_id::text, '') AS app, type, attributes a
                    FROM analytics.events WHERE team_id = ANY($1::uuid[]))
       SELECT concat_ws('|', day, team_id, '', 'apps_created', '') k, count(*)::float8 v FROM e
        WHERE type = 'events.audit.recorded.v1' AND a->>'action' = 'POST /api/apps' AND a->>'result' = 'ok' GROUP BY day, team_id
       UNION ALL SELECT concat_ws('|', day, team_id, app, 'ai_requests', a->>'modelAlias'), count(*) FROM e WHERE type = 'events.aiusage.recorded.v1' GROUP BY 1
       UNION ALL SELECT concat_ws('|', day, team_id, app, 'ai_cost_usd', a->>'modelAlias'), sum((a->>'costUsd')::float8) FROM e
        WHERE type = 'events.aiusage.recorded.v1' AND (a->>'costUsd')::float8 <> 0 GROUP BY 1
       UNION ALL SELECT concat_ws('|', day, team_id, app, 'ai_cache_hits', a->>'modelAlias'), count(*) FROM e
        WHERE type = 'events.aiusage.recorded.v1' AND (a->>'cacheHit')::boolean GROUP BY 1
       UNION ALL SELECT concat_ws('|', day, team_id, app, 'tool_calls', a->>'tool'), count(*) FROM e WHERE type = 'events.tool.executed.v1' GROUP BY 1
       UNION ALL SELECT concat_ws('|', day, team_id, app, 'tool_failures', a->>'tool'), count(*) FROM e
        WHERE type = 'events.tool.executed.v1' AND a->>'outcome' <> 'ok' GROUP BY 1
       UNION ALL SELECT concat_ws('|', day, team_id, app, 'runs', lower(replace(a->>'status', 'RUN_STATUS_', ''))), count(*) FROM e
        WHERE type = 'events.run.finished.v1' GROUP BY 1`,
      [teams()],
    );
    return Object.fromEntries(rows.map((r) => [r.k, Math.round(Number(r.v) * 1e6) / 1e6]));
  }

  async function settled(): Promise<void> {
    const jsm = await nc.jetstreamManager();
    for (let i = 0; i < 300; i++) {
      const [stored] = await query<{ n: string }>(`SELECT count(*) AS n FROM analytics.events WHERE team_id = ANY($1::uuid[])`, [teams()]);
      const info = await jsm.consumers.info('EVENTS', 'analytics-events').catch(() => undefined);
      if (Number(stored.n) === published && info && info.num_pending === 0 && info.num_ack_pending === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`analytics did not store the ${published} facts`);
  }

  const business = (teamId: string) => rpc.send(Rpc.analyticsBusinessRead, { teamId, from: '2026-03-01', to: '2026-03-02' });

  it('keeps aggregates equal to a recount after duplicate publishes, with the figures the facts make', async () => {
    await publishAll(true);
    await settled();
    const recounted = await recount();
    expect(Object.keys(recounted).length).toBeGreaterThan(20);
    expect(await kept()).toEqual(recounted);

    const r = await business(teamA);
    expect(r.totals).toMatchObject({
      appsCreated: 2n,
      activeUsers: 3n,
      aiRequests: 4n,
      aiTokens: 330n,
      aiCacheHits: 1n,
      toolCalls: 3n,
      toolFailures: 1n,
      runs: 2n,
      runsFailed: 1n,
    });
    expect(r.totals?.aiCostUsd).toBeCloseTo(1.75);
    expect(r.totals?.cacheHitRate).toBeCloseTo(0.25);
    expect(r.days.map((d) => [d.day, Number(d.figures?.appsCreated), Number(d.figures?.activeUsers)])).toEqual([
      ['2026-03-01', 1, 2],
      ['2026-03-02', 1, 2],
    ]);
    expect(r.tools.map((t) => [t.tool, Number(t.calls), Number(t.failures)])).toEqual([
      ['write_file', 2, 1],
      ['read_file', 1, 0],
    ]);
    expect(r.aiRequestsByUser.map((u) => [u.key, Number(u.count)])).toEqual([
      ['key-1', 3],
      ['key-2', 1],
    ]);
    // Every team is the sum of both; a team with no facts reads zeros.
    expect((await rpc.send(Rpc.analyticsBusinessRead, { teamId: '', from: '2026-03-01', to: '2026-03-02' })).totals?.aiRequests).toBeGreaterThanOrEqual(8n);
    expect((await business(randomUUID())).totals).toMatchObject({ aiRequests: 0n, appsCreated: 0n });
  }, 60_000);

  it('counts every fact once when the whole stream is delivered again', async () => {
    const before = await kept();
    await platform.stopService('analytics');
    const jsm = await nc.jetstreamManager();
    // A new consumer starts from the first message: every stored fact arrives a second time.
    await jsm.consumers.delete('EVENTS', 'analytics-events');
    await platform.start('analytics');
    await publishAll();
    await settled();
    const after = await kept();
    expect(after).toEqual(await recount());
    expect(Object.keys(after).length).toBe(Object.keys(before).length);
    expect(after).not.toEqual(before); // the new facts were counted
  }, 90_000);

  it('rebuilds damaged aggregates from the stored facts, one team or every team, while facts keep arriving', async () => {
    await query(`UPDATE analytics.daily_aggregates SET value = value * 7 WHERE team_id = ANY($1::uuid[])`, [teams()]);
    await query(`DELETE FROM analytics.daily_aggregates WHERE team_id = $1 AND metric = 'tool_calls'`, [teamB]);
    await query(`INSERT INTO analytics.daily_aggregates (day, team_id, app_id, metric, dim, value) VALUES ('2026-03-02', $1, '', 'apps_created', 'bogus', 5)`, [
      teamA,
    ]);

    const one = await rpc.send(Rpc.analyticsAggregatesRebuild, { teamId: teamA, from: '2026-03-01', to: '2026-03-02' });
    expect(one.days).toBe(2);
    expect(Number(one.events)).toBe(published / 2);
    const ofTeamA = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => k.includes(teamA)));
    expect(ofTeamA(await kept())).toEqual(ofTeamA(await recount()));
    // Team B was left as it was: still damaged.
    expect(await kept()).not.toEqual(await recount());

    const [all] = await Promise.all([rpc.send(Rpc.analyticsAggregatesRebuild, { teamId: '', from: '2026-02-28', to: '2026-03-03' }), publishAll()]);
    expect(all.days).toBe(4);
    await settled();
    expect(await kept()).toEqual(await recount());
  }, 60_000);

  it("serves today's figures as Prometheus gauges that promtool accepts", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const f = usage(teamA, appA, today, 0.75);
    await publishDurable(nc, Events.aiUsageRecorded, { ...f, occurredAt: new Date().toISOString() }, { msgId: f.eventId });
    published += 1;
    await settled();
    let text = '';
    for (let i = 0; i < 20 && !/^overskill_business_ai_requests_today\{[^}]*\} 1$/m.test(text); i++) {
      if (i) await new Promise((r) => setTimeout(r, 300)); // the gauges share a 5 s snapshot
      text = await (await fetch(`${platform.urls.analytics}/metrics`)).text();
    }
    expect(text).toMatch(/^overskill_business_ai_requests_today\{[^}]*\} 1$/m);
    expect(text).toMatch(/^overskill_business_ai_cost_dollars_today\{[^}]*\} 0\.75$/m);
    expect(text).toMatch(/^overskill_business_apps_created_today\{[^}]*\} 0$/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).not.toMatch(/overskill_business/);
  }, 30_000);

  it.each([
    [{ teamId: 'team-a', from: '2026-03-01', to: '2026-03-02' }, 'TEAM_NOT_FOUND', /team id/],
    [{ teamId: '', from: '2026-03-05', to: '2026-03-01' }, 'VALIDATION_FAILED', /after/],
    [{ teamId: '', from: '2026-01-01', to: '2026-03-01' }, 'VALIDATION_FAILED', /at most 31/],
    [{ teamId: '', from: '2026-02-31', to: '2026-03-01' }, 'VALIDATION_FAILED', /calendar day/],
  ])('refuses a rebuild of %j with %s', async (req, code, message) => {
    await expect(rpc.send(Rpc.analyticsAggregatesRebuild, req)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});

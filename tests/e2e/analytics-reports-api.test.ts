import { Events } from '@overskill/contracts';
import { connectNats, publishDurable } from '@overskill/messaging';
import { stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';

// GET /api/admin/reports/{business,metrics,performance}: the daily aggregates and the raw facts
// through the gateway, team-scoped, every team for operator keys, checked against the OpenAPI.
describe('business analytics reports API', () => {
  let h: GatewayHarness;
  let nc: NatsConnection;
  let admin: { key: string; teamId: string };
  let other: { key: string; teamId: string };
  let operator: { key: string; teamId: string };
  const problems: string[] = [];
  const app = randomUUID();

  const get = async (path: string, key = admin.key) => {
    const res = await h.api(path, { key });
    problems.push(...h.contract.check('GET', path, res));
    return res;
  };
  const usage = (teamId: string, occurredAt: string, costUsd: number, cacheHit = false, latencyMs = 100) => ({
    eventId: randomUUID(),
    occurredAt,
    teamId,
    appId: app,
    runId: '',
    apiKeyId: 'key-a',
    requestedAlias: 'primary',
    modelAlias: 'primary',
    provider: 'anthropic',
    providerModel: 'claude',
    inputTokens: cacheHit ? 0n : 1000n,
    outputTokens: cacheHit ? 0n : 100n,
    cacheReadInputTokens: 0n,
    cacheCreationInputTokens: 0n,
    costUsd,
    priceTableVersion: '1',
    latencyMs,
    attempts: 1,
    fallbackUsed: false,
    cacheHit,
    streamed: false,
    outcome: 'ok',
  });
  const tool = (teamId: string, occurredAt: string, name: string, durationMs: number, outcome = 'ok') => ({
    eventId: randomUUID(),
    occurredAt,
    teamId,
    appId: app,
    runId: '',
    toolUseId: 'x',
    tool: name,
    outcome,
    durationMs,
    bytesWritten: 0n,
    outputBytes: 0n,
    outputTruncated: false,
  });
  const created = (teamId: string, occurredAt: string, actor: string) => ({
    eventId: randomUUID(),
    occurredAt,
    teamId,
    actor,
    keyPrefix: 'osk_x',
    action: 'POST /api/apps',
    target: '',
    ip: '127.0.0.1',
    result: 'ok',
    status: 201,
    correlationId: 'c',
  });

  beforeAll(async () => {
    h = await startGatewayHarness({
      name: 'analytics-reports',
      redisDb: 14,
      services: ['gateway', 'analytics'],
      env: { GATEWAY_OPERATOR_TEAMS: 'reports-ops' },
    });
    admin = h.key('reports-team', 'admin');
    other = h.key('reports-other', 'admin');
    operator = h.key('reports-ops', 'admin');
    nc = await connectNats(h.natsUrl, 'analytics-reports-test', stackNatsCredentials(h));
    const facts: Array<[typeof Events.aiUsageRecorded | typeof Events.toolExecuted | typeof Events.auditRecorded, { eventId: string }]> = [
      [Events.aiUsageRecorded, usage(admin.teamId, '2026-04-01T10:00:00Z', 0.5, false, 100)],
      [Events.aiUsageRecorded, usage(admin.teamId, '2026-04-01T11:00:00Z', 1.5, false, 300)],
      [Events.aiUsageRecorded, usage(admin.teamId, '2026-04-02T10:00:00Z', 0, true, 5)],
      [Events.aiUsageRecorded, usage(other.teamId, '2026-04-01T10:00:00Z', 7)],
      [Events.toolExecuted, tool(admin.teamId, '2026-04-01T10:00:00Z', 'write_file', 10)],
      [Events.toolExecuted, tool(admin.teamId, '2026-04-01T10:01:00Z', 'write_file', 30, 'TOOL_FAILED')],
      [Events.toolExecuted, tool(admin.teamId, '2026-04-02T10:01:00Z', 'read_file', 2)],
      [Events.auditRecorded, created(admin.teamId, '2026-04-01T09:00:00Z', 'key-b')],
      [Events.auditRecorded, created(other.teamId, '2026-04-01T09:00:00Z', 'key-z')],
    ];
    for (const [def, fact] of facts) await publishDurable(nc, def as typeof Events.toolExecuted, fact as ReturnType<typeof tool>, { msgId: fact.eventId });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await h?.stop();
  });

  // One durable consumer takes the facts several at a time, so they are counted in no fixed order:
  // wait until every kind of fact (model calls, tool calls, apps created) is in.
  async function businessOnceStored(path: string, key: string, counts: { aiRequests: number; toolCalls: number; appsCreated: number }) {
    const stored = (totals?: Record<string, unknown>) => !!totals && Object.entries(counts).every(([name, n]) => totals[name] === n);
    let res = await get(path, key);
    for (let i = 0; i < 100 && !stored(res.body?.totals); i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await get(path, key);
    }
    return res;
  }

  it("answers the team's business figures, costs and tool usage for a range", async () => {
    const res = await businessOnceStored('/api/admin/reports/business?from=2026-04-01&to=2026-04-02', admin.key, {
      aiRequests: 3,
      toolCalls: 3,
      appsCreated: 1,
    });
    expect(res.status).toBe(200);
    expect(res.body.totals).toMatchObject({
      appsCreated: 1,
      activeUsers: 2,
      aiRequests: 3,
      aiTokens: 2200,
      aiCostUsd: 2,
      aiCacheHits: 1,
      toolCalls: 3,
      toolFailures: 1,
    });
    expect(res.body.totals.cacheHitRate).toBeCloseTo(1 / 3);
    expect(res.body.totals.cacheSavingsUsd).toBeCloseTo(1);
    expect(res.body.days.map((d: { day: string; aiRequests: number }) => [d.day, d.aiRequests])).toEqual([
      ['2026-04-01', 2],
      ['2026-04-02', 1],
    ]);
    expect(res.body.apps).toEqual([expect.objectContaining({ appId: app, teamId: admin.teamId, aiRequests: 3, aiCostUsd: 2, toolCalls: 3 })]);
    expect(res.body.tools.map((t: { tool: string }) => t.tool)).toEqual(['write_file', 'read_file']);
    expect(res.body.teams).toEqual([expect.objectContaining({ teamId: admin.teamId, aiRequests: 3 })]);
    expect(problems).toEqual([]);
  });

  it("answers the seed's metrics JSON for a day", async () => {
    const res = await get('/api/admin/reports/metrics?day=2026-04-01');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      day: '2026-04-01',
      apps_created_today: 1,
      active_users: 2,
      cache_hit_rate: 0,
      ai_tokens_used: 2200,
      tool_usage: { write_file: 2 },
    });
    const today = await get('/api/admin/reports/metrics');
    expect(today.body).toMatchObject({ day: new Date().toISOString().slice(0, 10), apps_created_today: 0, tool_usage: {} });
    expect(problems).toEqual([]);
  });

  it('answers latency percentiles and error rates from the facts', async () => {
    const res = await get('/api/admin/reports/performance?from=2026-04-01&to=2026-04-02');
    expect(res.status).toBe(200);
    const write = res.body.latencies.find((l: { kind: string; name: string }) => l.kind === 'tool' && l.name === 'write_file');
    expect(write).toMatchObject({ count: 2, errors: 1, errorRate: 0.5, p50Ms: 20, avgMs: 20 });
    const model = res.body.latencies.find((l: { kind: string }) => l.kind === 'ai_model');
    expect(model).toMatchObject({ name: 'primary', count: 3, p50Ms: 100 });
    expect(res.body.latencies.find((l: { kind: string }) => l.kind === 'route')).toMatchObject({ name: 'POST /api/apps', count: 1, p95Ms: null });
    expect(res.body.days).toEqual([
      { day: '2026-04-01', runs: 0, runsFailed: 0, aiRequests: 2, toolCalls: 2, apiWrites: 1 },
      { day: '2026-04-02', runs: 0, runsFailed: 0, aiRequests: 1, toolCalls: 1, apiWrites: 0 },
    ]);
    expect(problems).toEqual([]);
  });

  it('lets operator keys read every team or another team, and nobody else', async () => {
    const all = await businessOnceStored('/api/admin/reports/business?from=2026-04-01&to=2026-04-02&team=all', operator.key, {
      aiRequests: 4,
      toolCalls: 3,
      appsCreated: 2,
    });
    expect(all.status).toBe(200);
    expect(all.body.teams.map((t: { teamId: string }) => t.teamId)).toEqual(expect.arrayContaining([admin.teamId, other.teamId]));
    const theirs = await get(`/api/admin/reports/business?from=2026-04-01&to=2026-04-02&team=${other.teamId}`, operator.key);
    expect(theirs.body.totals).toMatchObject({ aiRequests: 1, aiCostUsd: 7, appsCreated: 1 });
    for (const path of ['/api/admin/reports/business?team=all', `/api/admin/reports/performance?team=${other.teamId}`, '/api/admin/reports/metrics?team=all']) {
      const res = await get(path);
      expect([res.status, res.body.code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await h.api('/api/admin/reports/business', { key: h.key('reports-team', 'member').key })).status).toBe(403);
    expect(problems).toEqual([]);
  });

  it('answers zeros for a range without facts', async () => {
    const res = await get('/api/admin/reports/business?from=2025-01-01&to=2025-01-03');
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(3);
    expect(res.body.totals).toMatchObject({ aiRequests: 0, appsCreated: 0, activeUsers: 0, cacheHitRate: 0 });
    expect([res.body.apps, res.body.tools, res.body.models]).toEqual([[], [], []]);
  });

  it.each([
    ['from after to', '/api/admin/reports/business?from=2026-04-05&to=2026-04-01', /from must not be after to/],
    ['more than 92 days', '/api/admin/reports/performance?from=2026-01-01&to=2026-06-01', /at most 92/],
    ['a far start with the end defaulted', '/api/admin/reports/business?from=2020-01-01', /at most 92/],
    ['a team that is not an id', '/api/admin/reports/business?team=everyone', /team/],
    ['an unknown parameter', '/api/admin/reports/metrics?days=3', /days/],
    ['a day not on the calendar', '/api/admin/reports/metrics?day=2026-02-30', /calendar day/],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_what, path, message) => {
    const res = await get(path);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.message).toMatch(message);
    expect(res.text).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

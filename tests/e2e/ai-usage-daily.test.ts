import { Events } from '@overskill/contracts';
import { connectNats, publishDurable } from '@overskill/messaging';
import { randomUUID } from 'node:crypto';
import { stackNatsCredentials } from '@overskill/testing';
import type { NatsConnection } from 'nats';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';

// AI usage and cost per day and app: the ai-router's usage facts on the EVENTS stream, stored by
// analytics, summed through GET /api/admin/ai/usage/daily, checked against the OpenAPI document.
describe('AI usage by day and app', () => {
  let h: GatewayHarness;
  let nc: NatsConnection;
  let admin: { key: string; teamId: string };
  const problems: string[] = [];
  const appA = randomUUID();
  const appB = randomUUID();

  const usage = (teamId: string, appId: string, occurredAt: string, cost: number, input = 100, output = 10) => ({
    eventId: randomUUID(),
    occurredAt,
    teamId,
    appId,
    runId: appId ? randomUUID() : '',
    apiKeyId: '',
    requestedAlias: 'primary',
    modelAlias: 'primary',
    provider: 'anthropic',
    providerModel: 'claude',
    inputTokens: BigInt(input),
    outputTokens: BigInt(output),
    cacheReadInputTokens: 5n,
    cacheCreationInputTokens: 0n,
    costUsd: cost,
    priceTableVersion: '1',
    latencyMs: 10,
    attempts: 1,
    fallbackUsed: false,
    cacheHit: false,
    streamed: false,
    outcome: 'ok',
  });
  const publish = (fact: ReturnType<typeof usage>) => publishDurable(nc, Events.aiUsageRecorded, fact, { msgId: fact.eventId });
  const get = async (path: string, key = admin.key) => {
    const res = await h.api(path, { key });
    problems.push(...h.contract.check('GET', path, res));
    return res;
  };

  beforeAll(async () => {
    h = await startGatewayHarness({ name: 'ai-usage-daily', redisDb: 13, services: ['gateway', 'analytics'] });
    admin = h.key('usage-team', 'admin');
    nc = await connectNats(h.natsUrl, 'ai-usage-daily-test', stackNatsCredentials(h));
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await h?.stop();
  });

  it('sums every call per UTC day and per app, zeros on quiet days, other teams left out', async () => {
    const first = usage(admin.teamId, appA, '2026-03-01T23:59:59.000Z', 0.25);
    await publish(first);
    await publish(first); // a redelivered fact counts once
    await publish(usage(admin.teamId, appA, '2026-03-02T00:00:00.000Z', 0.5));
    await publish(usage(admin.teamId, appB, '2026-03-02T12:00:00.000Z', 1.25, 1000, 100));
    await publish(usage(admin.teamId, '', '2026-03-03T08:00:00.000Z', 0.125));
    await publish(usage(admin.teamId, appB, '2026-03-09T08:00:00.000Z', 9)); // after the range
    await publish(usage(h.key('usage-other', 'admin').teamId, appA, '2026-03-02T10:00:00.000Z', 100));

    let body: { totals: { requests: number } } & Record<string, unknown> = { totals: { requests: 0 } };
    for (let i = 0; i < 100 && body.totals.requests !== 4; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      body = (await get('/api/admin/ai/usage/daily?from=2026-03-01&to=2026-03-04')).body;
    }
    const zero = { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
    expect(body).toEqual({
      from: '2026-03-01',
      to: '2026-03-04',
      totals: { requests: 4, inputTokens: 1300, outputTokens: 130, cacheReadTokens: 20, cacheWriteTokens: 0, costUsd: 2.125 },
      days: [
        { day: '2026-03-01', requests: 1, inputTokens: 100, outputTokens: 10, cacheReadTokens: 5, cacheWriteTokens: 0, costUsd: 0.25 },
        { day: '2026-03-02', requests: 2, inputTokens: 1100, outputTokens: 110, cacheReadTokens: 10, cacheWriteTokens: 0, costUsd: 1.75 },
        { day: '2026-03-03', requests: 1, inputTokens: 100, outputTokens: 10, cacheReadTokens: 5, cacheWriteTokens: 0, costUsd: 0.125 },
        { day: '2026-03-04', ...zero },
      ],
      apps: [
        { appId: appB, requests: 1, inputTokens: 1000, outputTokens: 100, cacheReadTokens: 5, cacheWriteTokens: 0, costUsd: 1.25 },
        { appId: appA, requests: 2, inputTokens: 200, outputTokens: 20, cacheReadTokens: 10, cacheWriteTokens: 0, costUsd: 0.75 },
        { appId: null, requests: 1, inputTokens: 100, outputTokens: 10, cacheReadTokens: 5, cacheWriteTokens: 0, costUsd: 0.125 },
      ],
      cells: expect.arrayContaining([
        expect.objectContaining({ day: '2026-03-01', appId: appA, requests: 1 }),
        expect.objectContaining({ day: '2026-03-02', appId: appA, requests: 1 }),
        expect.objectContaining({ day: '2026-03-02', appId: appB, requests: 1 }),
        expect.objectContaining({ day: '2026-03-03', appId: null, requests: 1 }),
      ]),
    });
    expect((body as unknown as { cells: unknown[] }).cells).toHaveLength(4);
    // The default range: the last seven days up to today.
    const recent = await get('/api/admin/ai/usage/daily');
    expect(recent.status).toBe(200);
    expect(recent.body.days).toHaveLength(7);
    expect(recent.body.to).toBe(new Date().toISOString().slice(0, 10));
    expect(problems).toEqual([]);
  });

  it.each([
    ['from after to', '?from=2026-03-05&to=2026-03-01', /from must not be after to/],
    ['a day that is not on the calendar', '?from=2026-02-31&to=2026-03-01', /calendar day/],
    ['a malformed day', '?to=03/01/2026', /YYYY-MM-DD/],
    ['a range over 92 days', '?from=2026-01-01&to=2026-06-01', /at most 92/],
    ['a far start with the end defaulted', '?from=2020-01-01', /at most 92/],
    ['an unknown parameter', '?from=2026-03-01&app=x', /app/],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_what, search, message) => {
    const res = await get(`/api/admin/ai/usage/daily${search}`);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.message).toMatch(message);
    expect(res.text).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('is for admins: a member is refused 403', async () => {
    const res = await h.api('/api/admin/ai/usage/daily', { key: h.key('usage-team', 'member').key });
    expect(res.status).toBe(403);
  });
});

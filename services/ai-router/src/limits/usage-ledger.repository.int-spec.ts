import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { SETTLE_DELAY_MS, UsageLedgerRepository, type Admission, type Settlement } from './usage-ledger.repository';

// Against the integration stack's real Redis; every scope id is fresh, so nothing is shared with
// another suite.
describe('UsageLedgerRepository', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const redis = new Redis(url);
  const ledger = new UsageLedgerRepository(redis);
  afterAll(() => redis.disconnect());

  const day = '2026-12-05';
  const admissionFor = (team: string, key: string | undefined, run: string | undefined, estimatedCostNano: number): Admission => ({
    rate: [
      { scope: 'team', id: team, requestsPerMinute: 1000, tokensPerMinute: 1_000_000 },
      ...(key ? [{ scope: 'key', id: key, requestsPerMinute: 1000, tokensPerMinute: 1_000_000 }] : []),
    ],
    budgets: [
      { scope: 'team', id: team, limitNano: 0, period: day, ttlSeconds: 60 },
      ...(run ? [{ scope: 'run', id: run, limitNano: 0, period: 'life', ttlSeconds: 60 }] : []),
    ],
    estimatedTokens: 100,
    estimatedCostNano,
    minute: 29_000_000,
  });
  const settlementOf = (admission: Admission, team: string, actualTokens: number, actualCostNano: number): Settlement => ({
    admission,
    actualTokens,
    actualCostNano,
    team,
    day,
    usage: { requests: 1, inputTokens: actualTokens - 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, cacheHits: 0 },
  });

  it('settles calls of different shapes in one script run, each against its own counters', async () => {
    const [teamA, teamB, key, run] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // A: team + key rate scopes, team + run budgets; B: team only. Reservations of 5,000 and 7,000 nano-dollars.
    const a = admissionFor(teamA, key, run, 5000);
    const b = admissionFor(teamB, undefined, undefined, 7000);
    expect(await ledger.admit(a)).toEqual({ ok: true });
    expect(await ledger.admit(a)).toEqual({ ok: true });
    expect(await ledger.admit(b)).toEqual({ ok: true });

    await ledger.settleAll([settlementOf(a, teamA, 40, 1200), settlementOf(b, teamB, 250, 9000), settlementOf(a, teamA, 10, 300)]);

    // Each reservation replaced by its real cost: 5000 + 5000 - 3800 - 4700 = 1500 = 1200 + 300.
    expect(await ledger.committed({ scope: 'team', id: teamA, period: day })).toBe(1500);
    expect(await ledger.committed({ scope: 'run', id: run, period: 'life' })).toBe(1500);
    // More than reserved (the estimate was low): the counter grows to the real cost.
    expect(await ledger.committed({ scope: 'team', id: teamB, period: day })).toBe(9000);
    // Token windows: 2 × 100 estimated, settled to 40 + 10.
    expect(await redis.hget(`ai:rl:team:${teamA}:29000000`, 't')).toBe('50');
    expect(await redis.hget(`ai:rl:key:${key}:29000000`, 't')).toBe('50');
    expect(await redis.hget(`ai:rl:team:${teamB}:29000000`, 't')).toBe('250');
    expect(await ledger.usage(teamA, day)).toMatchObject({ requests: 2, input_tokens: 48, output_tokens: 2, cost_nano: 1500, cache_hits: 0 });
    expect(await ledger.usage(teamB, day)).toMatchObject({ requests: 1, input_tokens: 249, output_tokens: 1, cost_nano: 9000 });
  });

  it('settles one call alone, and nothing at all without a round trip', async () => {
    const team = randomUUID();
    const a = admissionFor(team, undefined, undefined, 4000);
    expect(await ledger.admit(a)).toEqual({ ok: true });
    await ledger.settle(settlementOf(a, team, 20, 250));
    expect(await ledger.committed({ scope: 'team', id: team, period: day })).toBe(250);
    await expect(ledger.settleAll([])).resolves.toBeUndefined();
  });

  const cappedAdmission = (team: string, limitNano: number, estimatedCostNano: number): Admission => ({
    ...admissionFor(team, undefined, undefined, estimatedCostNano),
    budgets: [{ scope: 'team', id: team, limitNano, period: day, ttlSeconds: 60 }],
  });

  it('sends a deferred settlement ahead of the next admission, in the same round trip, so that admission sees it', async () => {
    const team = randomUUID();
    const a = cappedAdmission(team, 6000, 5000);
    expect(await ledger.admit(a)).toEqual({ ok: true });
    const failures: unknown[] = [];
    ledger.settleDeferred([settlementOf(a, team, 30, 500)], (err) => failures.push(err));
    // Still reserved: 5,000 of 6,000.
    expect(await redis.get(`ai:spend:team:${team}:${day}`)).toBe('5000');
    // Without the settlement first, 5,000 + 5,000 would exceed the cap; with it, 500 + 5,000 does not.
    expect(await ledger.admit(a)).toEqual({ ok: true });
    expect(await redis.get(`ai:spend:team:${team}:${day}`)).toBe('5500');
    expect(failures).toEqual([]);
    // A refusal still counts the settlement that rode along: 900 committed, 900 + 5,200 > 6,000.
    ledger.settleDeferred([settlementOf(a, team, 30, 400)], (err) => failures.push(err));
    expect(await ledger.admit(cappedAdmission(team, 6000, 5200))).toMatchObject({ ok: false, reason: 'budget', committedNano: 900 });
    expect(await ledger.usage(team, day)).toMatchObject({ requests: 2, cost_nano: 900 });
  });

  it('sends a deferred settlement on its own after a few milliseconds, and before any read of the counters', async () => {
    const team = randomUUID();
    const a = cappedAdmission(team, 0, 4000);
    expect(await ledger.admit(a)).toEqual({ ok: true });
    ledger.settleDeferred([settlementOf(a, team, 20, 250)], () => undefined);
    const started = Date.now();
    while ((await redis.get(`ai:spend:team:${team}:${day}`)) !== '250') {
      if (Date.now() - started > 5000) throw new Error('the deferred settlement never landed');
      await new Promise((resolve) => setTimeout(resolve, SETTLE_DELAY_MS / 4));
    }
    expect(await ledger.admit(a)).toEqual({ ok: true });
    ledger.settleDeferred([settlementOf(a, team, 20, 300)], () => undefined);
    expect(await ledger.committed({ scope: 'team', id: team, period: day })).toBe(550);
  });

  it('reports a failed deferred settlement and still answers the admission it rode with', async () => {
    const team = randomUUID();
    const a = cappedAdmission(team, 0, 4000);
    expect(await ledger.admit(a)).toEqual({ ok: true });
    // A usage key of the wrong type makes the settle script fail.
    await redis.set(`ai:usage:${team}:${day}`, 'not a hash', 'EX', 60);
    const failures: unknown[] = [];
    ledger.settleDeferred([settlementOf(a, team, 20, 250)], (err) => failures.push(err));
    expect(await ledger.admit(a)).toEqual({ ok: true });
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/WRONGTYPE/);
    // Redis keeps what the script wrote before its error: the budget was settled (4,000 + 4,000 - 3,750),
    // the day's usage hash was not.
    expect(await ledger.committed({ scope: 'team', id: team, period: day })).toBe(4250);
  });

  it('sends the admissions asked for together in one pipeline, each its own script run in the order asked', async () => {
    const team = randomUUID();
    const first = cappedAdmission(team, 10_000, 4000);
    expect(await ledger.admit(first)).toEqual({ ok: true });
    const failures: unknown[] = [];
    ledger.settleDeferred([settlementOf(first, team, 30, 1000)], (err) => failures.push(err));
    const pipeline = jest.spyOn(redis, 'pipeline');
    // 1,000 settled + 4,000 + 4,000 fit the 10,000 cap; a third 4,000 does not.
    const results = await Promise.all([ledger.admit(first), ledger.admit(first), ledger.admit(first)]);
    expect(pipeline).toHaveBeenCalledTimes(1);
    pipeline.mockRestore();
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: false, reason: 'budget', scope: 'team', committedNano: 9000, limitNano: 10_000 }]);
    expect(failures).toEqual([]);
    expect(await ledger.committed({ scope: 'team', id: team, period: day })).toBe(9000);
  });
});

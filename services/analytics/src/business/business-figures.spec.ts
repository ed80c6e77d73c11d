import { Events } from '@overskill/contracts';
import { contributionsOf, mergeContributions, Metric, type StoredFact } from '../aggregates/fact-contributions';
import type { AggregateRow } from '../aggregates/aggregates.repository';
import { businessFigures } from './business-figures';
import { NO_COST_MODEL, parseCostModel } from './cost-model';

const TEAM = '11111111-1111-4111-8111-111111111111';
const APP = '33333333-3333-4333-8333-333333333333';

const at = (day: string) => new Date(`${day}T12:00:00.000Z`);
const usage = (day: string, over: Record<string, unknown> = {}, teamId = TEAM): StoredFact => ({
  type: Events.aiUsageRecorded.subject,
  occurredAt: at(day),
  teamId,
  appId: APP,
  attributes: { modelAlias: 'primary', apiKeyId: 'key-a', inputTokens: '100', outputTokens: '20', costUsd: 0.5, cacheHit: false, outcome: 'ok', ...over },
});
const tool = (day: string, toolName: string, outcome = 'ok'): StoredFact => ({
  type: Events.toolExecuted.subject,
  occurredAt: at(day),
  teamId: TEAM,
  appId: APP,
  attributes: { tool: toolName, outcome, durationMs: 40 },
});
const audit = (day: string, action: string, actor: string, result = 'ok'): StoredFact => ({
  type: Events.auditRecorded.subject,
  occurredAt: at(day),
  teamId: TEAM,
  appId: null,
  attributes: { action, actor, result },
});

function rowsOf(facts: StoredFact[]): AggregateRow[] {
  return mergeContributions(facts.flatMap(contributionsOf));
}

describe('daily aggregates from facts', () => {
  it('counts what each fact contributes, skipping teamless facts and zero values', () => {
    expect(contributionsOf({ ...usage('2026-03-01'), teamId: null })).toEqual([]);
    const hit = contributionsOf(usage('2026-03-01', { cacheHit: true, costUsd: 0, inputTokens: '0', outputTokens: '0' }));
    expect(hit.map((c) => c.metric).sort()).toEqual([Metric.aiCacheHits, Metric.aiRequests, Metric.aiRequestsByUser, Metric.userActions].sort());
    expect(contributionsOf(tool('2026-03-01', 'write_file', 'TOOL_FAILED')).map((c) => [c.metric, c.dim, c.value])).toEqual([
      [Metric.toolCalls, 'write_file', 1],
      [Metric.toolFailures, 'write_file', 1],
      [Metric.toolMs, 'write_file', 40],
    ]);
    expect(contributionsOf(audit('2026-03-01', 'POST /api/apps', 'key-b', 'VALIDATION_FAILED')).map((c) => c.metric)).toEqual([Metric.userActions]);
    const run: StoredFact = {
      type: Events.runFinished.subject,
      occurredAt: at('2026-03-01'),
      teamId: TEAM,
      appId: APP,
      attributes: { status: 'RUN_STATUS_FAILED' },
    };
    expect(contributionsOf(run)).toEqual([{ day: '2026-03-01', teamId: TEAM, appId: APP, metric: Metric.runs, dim: 'failed', value: 1 }]);
  });

  it('sums a range into days, weeks, users, apps, tools and models, with cache savings at the mean uncached cost', () => {
    const facts = [
      usage('2026-03-01'),
      usage('2026-03-01', { apiKeyId: 'key-b', costUsd: 1.5 }),
      usage('2026-03-02', { cacheHit: true, costUsd: 0, inputTokens: '0', outputTokens: '0' }),
      tool('2026-03-01', 'write_file'),
      tool('2026-03-02', 'write_file', 'TOOL_FAILED'),
      tool('2026-03-02', 'read_file'),
      audit('2026-03-01', 'POST /api/apps', 'key-a'),
      audit('2026-03-03', 'POST /api/apps', 'key-c'),
    ];
    const r = businessFigures(['2026-03-01', '2026-03-02', '2026-03-03'], rowsOf(facts), [], NO_COST_MODEL);
    expect(r.totals).toMatchObject({
      appsCreated: 2,
      activeUsers: 3,
      aiRequests: 3,
      aiTokens: 240,
      aiCostUsd: 2,
      aiCacheHits: 1,
      toolCalls: 3,
      toolFailures: 1,
    });
    expect(r.totals.cacheHitRate).toBeCloseTo(1 / 3);
    expect(r.totals.cacheSavingsUsd).toBeCloseTo(1); // (0.5 + 1.5) / 2 uncached calls
    expect(r.days.map((d) => [d.day, d.figures.activeUsers, d.figures.appsCreated])).toEqual([
      ['2026-03-01', 2, 1],
      ['2026-03-02', 1, 0],
      ['2026-03-03', 1, 1],
    ]);
    // 2026-03-01 is a Sunday: two ISO weeks.
    expect(r.weeks).toEqual([
      { week: '2026-02-23', appsCreated: 1, activeUsers: 2 },
      { week: '2026-03-02', appsCreated: 1, activeUsers: 2 },
    ]);
    expect(r.aiRequestsByUser).toEqual([
      { key: 'key-a', count: 2 },
      { key: 'key-b', count: 1 },
    ]);
    expect(r.tools).toEqual([
      { tool: 'write_file', calls: 2, failures: 1, avgMs: 40 },
      { tool: 'read_file', calls: 1, failures: 0, avgMs: 40 },
    ]);
    expect(r.models).toEqual([{ model: 'primary', requests: 3, tokens: 240, costUsd: 2, cacheHits: 1, cacheSavingsUsd: 1 }]);
  });

  it("shares a day's infrastructure cost by weighted activity across every team", () => {
    const model = parseCostModel('version: t\nmonthly_usd: 300\nweights: { ai_requests: 1, tool_calls: 1, runs: 0 }\n', 'test');
    const mine = rowsOf([usage('2026-03-01'), tool('2026-03-01', 'write_file')]);
    // The platform did 4 units that day: 2 of them ours.
    const platform = [
      { day: '2026-03-01', metric: Metric.aiRequests, value: 3 },
      { day: '2026-03-01', metric: Metric.toolCalls, value: 1 },
    ];
    const r = businessFigures(['2026-03-01'], mine, platform, model);
    expect(r.totals.infraCostUsd).toBeCloseTo(5); // 300 / 30 * 2 / 4
    expect(r.apps[0]).toMatchObject({ appId: APP, teamId: TEAM, aiCostUsd: 0.5, totalCostUsd: 5.5 });
    expect(r.teams).toEqual([{ teamId: TEAM, aiCostUsd: 0.5, infraCostUsd: 5, aiRequests: 1 }]);
  });

  it('answers zeros for a range without facts', () => {
    const r = businessFigures(['2026-03-01'], [], [], NO_COST_MODEL);
    expect(r.totals).toMatchObject({ appsCreated: 0, activeUsers: 0, aiRequests: 0, cacheHitRate: 0, infraCostUsd: 0 });
    expect([r.apps, r.tools, r.models, r.teams]).toEqual([[], [], [], []]);
  });

  it('refuses a cost model that is not one, naming the problem', () => {
    expect(() => parseCostModel('version: x\nmonthly_usd: -1\nweights: {}\n', 'cost.yml')).toThrow(/cost.yml is not a cost model: monthly_usd/);
    expect(() => parseCostModel('version: x\nmonthly_usd: 1\nweights: { gpus: 2 }\n', 'cost.yml')).toThrow(/gpus/);
    expect(() => parseCostModel(': : :\n  - [', 'cost.yml')).toThrow(/not valid YAML/);
    expect(parseCostModel('version: x\nmonthly_usd: 60\nweights: {}\n', 'c').dailyUsd).toBe(2);
  });
});

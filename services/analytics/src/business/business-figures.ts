import { Metric } from '../aggregates/fact-contributions';
import type { AggregateRow } from '../aggregates/aggregates.repository';
import { weekOf } from '../days/utc-days';
import type { CostModel } from './cost-model';

// The business figures of a range, from its daily aggregate rows. Pure (unit-tested).

export interface Figures {
  appsCreated: number;
  activeUsers: number;
  aiRequests: number;
  aiTokens: number;
  aiCostUsd: number;
  aiCacheHits: number;
  cacheHitRate: number;
  cacheSavingsUsd: number;
  toolCalls: number;
  toolFailures: number;
  runs: number;
  runsFailed: number;
  infraCostUsd: number;
}

export interface BusinessFiguresResult {
  totals: Figures;
  days: Array<{ day: string; figures: Figures }>;
  weeks: Array<{ week: string; appsCreated: number; activeUsers: number }>;
  aiRequestsByUser: Array<{ key: string; count: number }>;
  apps: Array<{
    appId: string;
    teamId: string;
    aiRequests: number;
    aiTokens: number;
    aiCostUsd: number;
    toolCalls: number;
    infraCostUsd: number;
    totalCostUsd: number;
  }>;
  tools: Array<{ tool: string; calls: number; failures: number; avgMs: number }>;
  models: Array<{ model: string; requests: number; tokens: number; costUsd: number; cacheHits: number; cacheSavingsUsd: number }>;
  teams: Array<{ teamId: string; aiCostUsd: number; infraCostUsd: number; aiRequests: number }>;
}

const WEIGHTED = [Metric.aiRequests, Metric.toolCalls, Metric.runs] as const;
export const WEIGHTED_METRICS: string[] = [...WEIGHTED];

function zero(): Figures {
  return {
    appsCreated: 0,
    activeUsers: 0,
    aiRequests: 0,
    aiTokens: 0,
    aiCostUsd: 0,
    aiCacheHits: 0,
    cacheHitRate: 0,
    cacheSavingsUsd: 0,
    toolCalls: 0,
    toolFailures: 0,
    runs: 0,
    runsFailed: 0,
    infraCostUsd: 0,
  };
}

function bump<K>(map: Map<K, number>, key: K, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

function unitsOf(metric: string, value: number, model: CostModel): number {
  if (metric === Metric.aiRequests) return value * model.weights.ai_requests;
  if (metric === Metric.toolCalls) return value * model.weights.tool_calls;
  if (metric === Metric.runs) return value * model.weights.runs;
  return 0;
}

export function businessFigures(
  days: string[],
  rows: AggregateRow[],
  platform: Array<{ day: string; metric: string; value: number }>,
  model: CostModel,
): BusinessFiguresResult {
  const platformUnits = new Map<string, number>();
  for (const p of platform) bump(platformUnits, p.day, unitsOf(p.metric, p.value, model));

  // The model's mean cost of an answered (uncached) call prices what its cache hits saved.
  const modelTotals = new Map<string, { requests: number; tokens: number; cost: number; hits: number }>();
  for (const r of rows) {
    if (!(r.metric === Metric.aiRequests || r.metric === Metric.aiTokens || r.metric === Metric.aiCostUsd || r.metric === Metric.aiCacheHits)) continue;
    let m = modelTotals.get(r.dim);
    if (!m) modelTotals.set(r.dim, (m = { requests: 0, tokens: 0, cost: 0, hits: 0 }));
    if (r.metric === Metric.aiRequests) m.requests += r.value;
    if (r.metric === Metric.aiTokens) m.tokens += r.value;
    if (r.metric === Metric.aiCostUsd) m.cost += r.value;
    if (r.metric === Metric.aiCacheHits) m.hits += r.value;
  }
  const meanCost = (modelName: string) => {
    const m = modelTotals.get(modelName);
    return m && m.requests > m.hits ? m.cost / (m.requests - m.hits) : 0;
  };

  const byDay = new Map(days.map((d) => [d, zero()]));
  const usersByDay = new Map<string, Set<string>>();
  const usersByWeek = new Map<string, Set<string>>();
  const appsByWeek = new Map<string, number>();
  const users = new Set<string>();
  const byUser = new Map<string, number>();
  const apps = new Map<string, BusinessFiguresResult['apps'][number]>();
  const tools = new Map<string, { calls: number; failures: number; ms: number }>();
  const teams = new Map<string, { aiCostUsd: number; infraCostUsd: number; aiRequests: number }>();

  const appOf = (r: AggregateRow) => {
    const key = `${r.teamId}|${r.appId}`;
    let a = apps.get(key);
    if (!a) apps.set(key, (a = { appId: r.appId, teamId: r.teamId, aiRequests: 0, aiTokens: 0, aiCostUsd: 0, toolCalls: 0, infraCostUsd: 0, totalCostUsd: 0 }));
    return a;
  };
  const teamOf = (teamId: string) => {
    let t = teams.get(teamId);
    if (!t) teams.set(teamId, (t = { aiCostUsd: 0, infraCostUsd: 0, aiRequests: 0 }));
    return t;
  };
  const toolOf = (name: string) => {
    let t = tools.get(name);
    if (!t) tools.set(name, (t = { calls: 0, failures: 0, ms: 0 }));
    return t;
  };

  for (const r of rows) {
    const d = byDay.get(r.day);
    if (!d) continue;
    const units = unitsOf(r.metric, r.value, model);
    const dayUnits = platformUnits.get(r.day) ?? 0;
    if (units > 0 && dayUnits > 0) {
      const share = (model.dailyUsd * units) / dayUnits;
      d.infraCostUsd += share;
      appOf(r).infraCostUsd += share;
      teamOf(r.teamId).infraCostUsd += share;
    }
    switch (r.metric) {
      case Metric.appsCreated:
        d.appsCreated += r.value;
        bump(appsByWeek, weekOf(r.day), r.value);
        break;
      case Metric.userActions: {
        const key = `${r.teamId}|${r.dim}`;
        for (const [map, at] of [
          [usersByDay, r.day],
          [usersByWeek, weekOf(r.day)],
        ] as const) {
          if (!map.has(at)) map.set(at, new Set());
          map.get(at)?.add(key);
        }
        users.add(key);
        break;
      }
      case Metric.aiRequestsByUser:
        bump(byUser, r.dim, r.value);
        break;
      case Metric.aiRequests:
        d.aiRequests += r.value;
        appOf(r).aiRequests += r.value;
        teamOf(r.teamId).aiRequests += r.value;
        break;
      case Metric.aiTokens:
        d.aiTokens += r.value;
        appOf(r).aiTokens += r.value;
        break;
      case Metric.aiCostUsd:
        d.aiCostUsd += r.value;
        appOf(r).aiCostUsd += r.value;
        teamOf(r.teamId).aiCostUsd += r.value;
        break;
      case Metric.aiCacheHits:
        d.aiCacheHits += r.value;
        d.cacheSavingsUsd += r.value * meanCost(r.dim);
        break;
      case Metric.toolCalls:
        d.toolCalls += r.value;
        appOf(r).toolCalls += r.value;
        toolOf(r.dim).calls += r.value;
        break;
      case Metric.toolFailures:
        d.toolFailures += r.value;
        toolOf(r.dim).failures += r.value;
        break;
      case Metric.toolMs:
        toolOf(r.dim).ms += r.value;
        break;
      case Metric.runs:
        d.runs += r.value;
        if (r.dim === 'failed') d.runsFailed += r.value;
        break;
      default:
        break;
    }
  }

  const totals = zero();
  for (const [day, f] of byDay) {
    f.activeUsers = usersByDay.get(day)?.size ?? 0;
    f.cacheHitRate = f.aiRequests ? f.aiCacheHits / f.aiRequests : 0;
    for (const k of Object.keys(totals) as Array<keyof Figures>) totals[k] += f[k];
  }
  totals.activeUsers = users.size;
  totals.cacheHitRate = totals.aiRequests ? totals.aiCacheHits / totals.aiRequests : 0;

  const weeks = [...new Set(days.map(weekOf))].map((week) => ({ week, appsCreated: appsByWeek.get(week) ?? 0, activeUsers: usersByWeek.get(week)?.size ?? 0 }));
  for (const a of apps.values()) a.totalCostUsd = a.aiCostUsd + a.infraCostUsd;
  return {
    totals,
    days: [...byDay].map(([day, figures]) => ({ day, figures })),
    weeks,
    aiRequestsByUser: [...byUser].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key, count]) => ({ key, count })),
    apps: [...apps.values()].sort((a, b) => b.totalCostUsd - a.totalCostUsd || b.aiRequests - a.aiRequests || a.appId.localeCompare(b.appId)),
    tools: [...tools]
      .filter(([, t]) => t.calls > 0)
      .sort((a, b) => b[1].calls - a[1].calls || a[0].localeCompare(b[0]))
      .map(([tool, t]) => ({ tool, calls: t.calls, failures: t.failures, avgMs: t.ms / t.calls })),
    models: [...modelTotals]
      .sort((a, b) => b[1].cost - a[1].cost || b[1].requests - a[1].requests || a[0].localeCompare(b[0]))
      .map(([name, m]) => ({
        model: name,
        requests: m.requests,
        tokens: m.tokens,
        costUsd: m.cost,
        cacheHits: m.hits,
        cacheSavingsUsd: m.hits * meanCost(name),
      })),
    teams: [...teams]
      .sort((a, b) => b[1].aiCostUsd + b[1].infraCostUsd - (a[1].aiCostUsd + a[1].infraCostUsd) || a[0].localeCompare(b[0]))
      .map(([teamId, t]) => ({ teamId, ...t })),
  };
}

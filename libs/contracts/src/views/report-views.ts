import type { BusinessFigures, BusinessReadResponse, PerformanceReadResponse } from '../gen/overskill/analytics/v1/analytics_pb';

// The JSON of the business and performance figures for the API and the operator CLI (one
// mapping, so the reports routes and `overskill cost|performance report` cannot drift).

const cents = (usd: number) => Math.round(usd * 1e6) / 1e6;

export function figuresView(f: BusinessFigures | undefined) {
  return {
    appsCreated: Number(f?.appsCreated ?? 0),
    activeUsers: Number(f?.activeUsers ?? 0),
    aiRequests: Number(f?.aiRequests ?? 0),
    aiTokens: Number(f?.aiTokens ?? 0),
    aiCostUsd: cents(f?.aiCostUsd ?? 0),
    aiCacheHits: Number(f?.aiCacheHits ?? 0),
    cacheHitRate: f?.cacheHitRate ?? 0,
    cacheSavingsUsd: cents(f?.cacheSavingsUsd ?? 0),
    toolCalls: Number(f?.toolCalls ?? 0),
    toolFailures: Number(f?.toolFailures ?? 0),
    runs: Number(f?.runs ?? 0),
    runsFailed: Number(f?.runsFailed ?? 0),
    infraCostUsd: cents(f?.infraCostUsd ?? 0),
  };
}

export function businessReportView(r: BusinessReadResponse) {
  return {
    from: r.from,
    to: r.to,
    costModel: r.costModel,
    totals: figuresView(r.totals),
    days: r.days.map((d) => ({ day: d.day, ...figuresView(d.figures) })),
    weeks: r.weeks.map((w) => ({ week: w.week, appsCreated: Number(w.appsCreated), activeUsers: Number(w.activeUsers) })),
    aiRequestsByUser: r.aiRequestsByUser.map((u) => ({ keyId: u.key, requests: Number(u.count) })),
    apps: r.apps.map((a) => ({
      appId: a.appId || null,
      teamId: a.teamId,
      aiRequests: Number(a.aiRequests),
      aiTokens: Number(a.aiTokens),
      aiCostUsd: cents(a.aiCostUsd),
      toolCalls: Number(a.toolCalls),
      infraCostUsd: cents(a.infraCostUsd),
      totalCostUsd: cents(a.totalCostUsd),
    })),
    tools: r.tools.map((t) => ({
      tool: t.tool,
      calls: Number(t.calls),
      failures: Number(t.failures),
      failureRate: Number(t.calls) ? Number(t.failures) / Number(t.calls) : 0,
      avgMs: Math.round(t.avgMs * 10) / 10,
    })),
    models: r.models.map((m) => ({
      model: m.model,
      requests: Number(m.requests),
      tokens: Number(m.tokens),
      costUsd: cents(m.costUsd),
      cacheHits: Number(m.cacheHits),
      cacheSavingsUsd: cents(m.cacheSavingsUsd),
    })),
    teams: r.teams.map((t) => ({ teamId: t.teamId, aiRequests: Number(t.aiRequests), aiCostUsd: cents(t.aiCostUsd), infraCostUsd: cents(t.infraCostUsd) })),
  };
}

export type BusinessReportView = ReturnType<typeof businessReportView>;

// The seed's metrics JSON, for one day (today by default).
export function businessMetricsView(r: BusinessReadResponse) {
  const t = figuresView(r.totals);
  return {
    day: r.to,
    apps_created_today: t.appsCreated,
    active_users: t.activeUsers,
    cache_hit_rate: t.cacheHitRate,
    ai_tokens_used: t.aiTokens,
    tool_usage: Object.fromEntries(r.tools.map((x) => [x.tool, Number(x.calls)])),
  };
}

export function performanceReportView(r: PerformanceReadResponse) {
  const ms = (v: number) => Math.round(v * 10) / 10;
  return {
    from: r.from,
    to: r.to,
    latencies: r.latencies.map((l) => ({
      kind: l.kind,
      name: l.name,
      count: Number(l.count),
      errors: Number(l.errors),
      errorRate: Number(l.count) ? Number(l.errors) / Number(l.count) : 0,
      // Audited API requests carry no duration: their latency comes from Prometheus.
      p50Ms: l.kind === 'route' ? null : ms(l.p50Ms),
      p95Ms: l.kind === 'route' ? null : ms(l.p95Ms),
      p99Ms: l.kind === 'route' ? null : ms(l.p99Ms),
      avgMs: l.kind === 'route' ? null : ms(l.avgMs),
    })),
    days: r.days.map((d) => ({
      day: d.day,
      runs: Number(d.runs),
      runsFailed: Number(d.runsFailed),
      aiRequests: Number(d.aiRequests),
      toolCalls: Number(d.toolCalls),
      apiWrites: Number(d.apiWrites),
    })),
  };
}

export type PerformanceReportView = ReturnType<typeof performanceReportView>;

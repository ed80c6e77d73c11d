import { Events } from '@overskill/contracts';

// What one stored fact adds to the daily aggregates. Pure: the ingest (one fact, in the same
// transaction as its insert-once) and the rebuild (every fact of a day, again) both use it, so a
// rebuilt day equals the day as it was kept.

export const Metric = {
  appsCreated: 'apps_created',
  // One row per acting API key (the platform's users) and day: active users = distinct dims.
  userActions: 'user_actions',
  aiRequests: 'ai_requests',
  aiRequestsByUser: 'ai_requests_by_user',
  aiTokens: 'ai_tokens',
  aiCostUsd: 'ai_cost_usd',
  aiCacheHits: 'ai_cache_hits',
  aiErrors: 'ai_errors',
  toolCalls: 'tool_calls',
  toolFailures: 'tool_failures',
  toolMs: 'tool_ms',
  runs: 'runs',
  probes: 'probes',
} as const;
export type MetricName = (typeof Metric)[keyof typeof Metric];

export interface StoredFact {
  type: string;
  occurredAt: Date;
  teamId: string | null;
  appId: string | null;
  attributes: Record<string, unknown>;
}

export interface Contribution {
  day: string;
  teamId: string;
  appId: string;
  metric: MetricName;
  dim: string;
  value: number;
}

// The audit action of a created app (the gateway audits every mutating request).
export const APP_CREATED_ACTION = 'POST /api/apps';

export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function contributionsOf(fact: StoredFact): Contribution[] {
  // Facts of no team (an authentication failure) are no team's business figures.
  if (!fact.teamId) return [];
  const a = fact.attributes;
  const out: Contribution[] = [];
  const day = utcDay(fact.occurredAt);
  const teamId = fact.teamId;
  const add = (metric: MetricName, value: number, appId = '', dim = '') => {
    if (Number.isFinite(value) && value !== 0) out.push({ day, teamId, appId, metric, dim: dim.slice(0, 200), value });
  };
  const app = fact.appId ?? '';
  switch (fact.type) {
    case Events.auditRecorded.subject: {
      const actor = str(a.actor);
      if (str(a.action) === APP_CREATED_ACTION && str(a.result) === 'ok') add(Metric.appsCreated, 1);
      if (actor) add(Metric.userActions, 1, '', actor);
      break;
    }
    case Events.aiUsageRecorded.subject: {
      const model = str(a.modelAlias) || str(a.requestedAlias) || 'unknown';
      const user = str(a.apiKeyId);
      add(Metric.aiRequests, 1, app, model);
      add(Metric.aiTokens, num(a.inputTokens) + num(a.outputTokens), app, model);
      add(Metric.aiCostUsd, num(a.costUsd), app, model);
      if (a.cacheHit === true) add(Metric.aiCacheHits, 1, app, model);
      if (str(a.outcome) && str(a.outcome) !== 'ok') add(Metric.aiErrors, 1, app, model);
      if (user) {
        add(Metric.aiRequestsByUser, 1, '', user);
        add(Metric.userActions, 1, '', user);
      }
      break;
    }
    case Events.toolExecuted.subject: {
      const tool = str(a.tool) || 'unknown';
      add(Metric.toolCalls, 1, app, tool);
      if (str(a.outcome) !== 'ok') add(Metric.toolFailures, 1, app, tool);
      add(Metric.toolMs, num(a.durationMs), app, tool);
      break;
    }
    case Events.runFinished.subject:
      add(Metric.runs, 1, app, runStatus(a.status));
      break;
    case Events.analyticsProbe.subject:
      add(Metric.probes, 1);
      break;
    default:
      break;
  }
  return out;
}

// Contributions to the same row summed, so one upsert statement touches each row once.
export function mergeContributions(items: Iterable<Contribution>): Contribution[] {
  const byKey = new Map<string, Contribution>();
  for (const c of items) {
    const key = `${c.day}|${c.teamId}|${c.appId}|${c.metric}|${c.dim}`;
    const seen = byKey.get(key);
    if (seen) seen.value += c.value;
    else byKey.set(key, { ...c });
  }
  return [...byKey.values()];
}

// RUN_STATUS_FAILED (proto3 JSON of the enum) -> failed.
export function runStatus(value: unknown): string {
  return (
    str(value)
      .replace(/^RUN_STATUS_/, '')
      .toLowerCase() || 'unknown'
  );
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

// proto3 JSON writes int64 as a string.
function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
}

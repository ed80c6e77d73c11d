import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { AggregatesRepository } from '../aggregates/aggregates.repository';
import { dayRange } from '../days/utc-days';
import { businessFigures, WEIGHTED_METRICS, type Figures } from './business-figures';
import type { CostModel } from './cost-model';

export const COST_MODEL = Symbol('COST_MODEL');
// A quarter and a bit, as the AI usage by day.
export const MAX_REPORT_DAYS = 92;

// team_id "" = every team: the gateway passes it for operator keys only, the CLI for operators.
export function teamScope(teamId: string): string | null {
  if (teamId === '') return null;
  if (!isEntityId(teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
  return teamId;
}

@Injectable()
export class BusinessService {
  constructor(
    private readonly aggregates: AggregatesRepository,
    @Inject(COST_MODEL) private readonly costModel: CostModel,
  ) {}

  async read(req: RpcRequest<typeof Rpc.analyticsBusinessRead>): Promise<RpcReply<typeof Rpc.analyticsBusinessRead>> {
    const teamId = teamScope(req.teamId);
    const days = dayRange(req.from, req.to, MAX_REPORT_DAYS);
    const [rows, platform] = await Promise.all([
      this.aggregates.rows(teamId, req.from, req.to),
      this.aggregates.platformActivity(req.from, req.to, WEIGHTED_METRICS),
    ]);
    const r = businessFigures(days, rows, platform, this.costModel);
    return {
      from: req.from,
      to: req.to,
      totals: wire(r.totals),
      days: r.days.map((d) => ({ day: d.day, figures: wire(d.figures) })),
      weeks: r.weeks.map((w) => ({ week: w.week, appsCreated: BigInt(w.appsCreated), activeUsers: BigInt(w.activeUsers) })),
      aiRequestsByUser: r.aiRequestsByUser.slice(0, 100).map((u) => ({ key: u.key, count: BigInt(u.count) })),
      apps: r.apps.map((a) => ({ ...a, aiRequests: BigInt(a.aiRequests), aiTokens: BigInt(a.aiTokens), toolCalls: BigInt(a.toolCalls) })),
      tools: r.tools.map((t) => ({ ...t, calls: BigInt(t.calls), failures: BigInt(t.failures) })),
      models: r.models.map((m) => ({ ...m, requests: BigInt(m.requests), tokens: BigInt(m.tokens), cacheHits: BigInt(m.cacheHits) })),
      teams: r.teams.map((t) => ({ ...t, aiRequests: BigInt(t.aiRequests) })),
      costModel: this.costModel.version,
    };
  }
}

function wire(f: Figures) {
  return {
    appsCreated: BigInt(Math.round(f.appsCreated)),
    activeUsers: BigInt(f.activeUsers),
    aiRequests: BigInt(Math.round(f.aiRequests)),
    aiTokens: BigInt(Math.round(f.aiTokens)),
    aiCostUsd: f.aiCostUsd,
    aiCacheHits: BigInt(Math.round(f.aiCacheHits)),
    cacheHitRate: f.cacheHitRate,
    cacheSavingsUsd: f.cacheSavingsUsd,
    toolCalls: BigInt(Math.round(f.toolCalls)),
    toolFailures: BigInt(Math.round(f.toolFailures)),
    runs: BigInt(Math.round(f.runs)),
    runsFailed: BigInt(Math.round(f.runsFailed)),
    infraCostUsd: f.infraCostUsd,
  };
}

import { Controller, Req, UseGuards } from '@nestjs/common';
import { AppError, ErrorCode, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ApiRoute, parseRequest, ROUTES } from '../api/routes';
import { ApiKeyGuard, type AuthenticatedRequest } from '../keys/api-key.guard';
import { AI_USAGE_MAX_DAYS } from './anthropic-messages.schema';

const DAY_MS = 86_400_000;

// Operator views of the model router (owner and admin keys; the switch: operator teams only).
@Controller()
@UseGuards(ApiKeyGuard)
export class AiAdminHttpController {
  constructor(private readonly rpc: NatsRpcClient) {}

  @ApiRoute(ROUTES.aiStatus)
  async status(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.aiStatus, req);
    const s = await this.rpc.send(Rpc.aiRouterStatus, {});
    return {
      activeAlias: s.activeAlias,
      aliases: s.aliases.map((a) => ({ alias: a.alias, provider: a.provider, model: a.model })),
      breakers: s.breakers.map((b) => ({ model: b.model, state: b.state, consecutiveFailures: b.consecutiveFailures, openedAt: b.openedAt || null })),
      config: { source: s.configSource, loadedAt: s.configLoadedAt, priceTableVersion: s.priceTableVersion },
    };
  }

  @ApiRoute(ROUTES.aiCache)
  async cache(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.aiCache, req);
    const c = await this.rpc.send(Rpc.aiCacheStats, {});
    return { hits: Number(c.hits), misses: Number(c.misses), hitRate: c.hitRate, entries: Number(c.entries), bytes: Number(c.bytes), maxBytes: Number(c.maxBytes), ttlSeconds: c.ttlSeconds, evictions: Number(c.evictions) };
  }

  @ApiRoute(ROUTES.aiUsage)
  async usage(@Req() req: AuthenticatedRequest) {
    const { day } = parseRequest(ROUTES.aiUsage, req).query;
    const u = await this.rpc.send(Rpc.aiUsageSummary, { teamId: req.principal.teamId, day: day ?? '' });
    return {
      teamId: u.teamId,
      day: u.day,
      requests: Number(u.requests),
      tokens: { input: Number(u.inputTokens), output: Number(u.outputTokens), cacheRead: Number(u.cacheReadInputTokens), cacheWrite: Number(u.cacheCreationInputTokens) },
      costUsd: u.costUsd,
      budgetUsd: u.budgetUsd,
      committedUsd: u.committedUsd,
      cacheHits: Number(u.cacheHits),
    };
  }

  @ApiRoute(ROUTES.aiUsageDaily)
  async usageDaily(@Req() req: AuthenticatedRequest) {
    const query = parseRequest(ROUTES.aiUsageDaily, req).query;
    const to = query.to ?? new Date().toISOString().slice(0, 10);
    const from = query.from ?? new Date(Date.parse(to) - 6 * DAY_MS).toISOString().slice(0, 10);
    // The schema checks a range given whole; this covers one end given and the other defaulted.
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days < 1) throw new AppError(ErrorCode.VALIDATION_FAILED, `from (${from}) must not be after to (${to})`);
    if (days > AI_USAGE_MAX_DAYS) throw new AppError(ErrorCode.VALIDATION_FAILED, `the range ${from}..${to} covers ${days} days; ask for at most ${AI_USAGE_MAX_DAYS}`);
    const u = await this.rpc.send(Rpc.analyticsAiUsageDaily, { teamId: req.principal.teamId, from, to });
    return {
      from: u.from,
      to: u.to,
      totals: totals(u.totals),
      days: u.days.map((d) => ({ day: d.day, ...totals(d.totals) })),
      apps: u.apps.map((a) => ({ appId: a.appId || null, ...totals(a.totals) })),
      cells: u.cells.map((c) => ({ day: c.day, appId: c.appId || null, ...totals(c.totals) })),
    };
  }

  @ApiRoute(ROUTES.aiSwitchModel)
  async switchModel(@Req() req: AuthenticatedRequest) {
    const { alias } = parseRequest(ROUTES.aiSwitchModel, req).body;
    const r = await this.rpc.send(Rpc.aiModelSwitch, { alias });
    return { activeAlias: r.activeAlias, previousAlias: r.previousAlias };
  }
}

type UsageTotals = { requests: bigint; inputTokens: bigint; outputTokens: bigint; cacheReadInputTokens: bigint; cacheCreationInputTokens: bigint; costUsd: number };

function totals(t: UsageTotals | undefined) {
  return {
    requests: Number(t?.requests ?? 0),
    inputTokens: Number(t?.inputTokens ?? 0),
    outputTokens: Number(t?.outputTokens ?? 0),
    cacheReadTokens: Number(t?.cacheReadInputTokens ?? 0),
    cacheWriteTokens: Number(t?.cacheCreationInputTokens ?? 0),
    costUsd: t?.costUsd ?? 0,
  };
}

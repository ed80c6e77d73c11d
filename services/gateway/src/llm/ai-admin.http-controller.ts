import { Controller, Req, UseGuards } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { AiUsageService } from './ai-usage.service';

// Operator views of the model router (owner and admin keys; the switch: operator teams only).
@Controller()
@UseGuards(ApiKeyGuard)
export class AiAdminHttpController {
  constructor(
    private readonly rpc: NatsRpcClient,
    private readonly usageByDay: AiUsageService,
  ) {}

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
    return {
      hits: Number(c.hits),
      misses: Number(c.misses),
      hitRate: c.hitRate,
      entries: Number(c.entries),
      bytes: Number(c.bytes),
      maxBytes: Number(c.maxBytes),
      ttlSeconds: c.ttlSeconds,
      evictions: Number(c.evictions),
    };
  }

  @ApiRoute(ROUTES.aiUsage)
  async usage(@Req() req: AuthenticatedRequest) {
    const { day } = parseRequest(ROUTES.aiUsage, req).query;
    const u = await this.rpc.send(Rpc.aiUsageSummary, { teamId: req.principal.teamId, day: day ?? '' });
    return {
      teamId: u.teamId,
      day: u.day,
      requests: Number(u.requests),
      tokens: {
        input: Number(u.inputTokens),
        output: Number(u.outputTokens),
        cacheRead: Number(u.cacheReadInputTokens),
        cacheWrite: Number(u.cacheCreationInputTokens),
      },
      costUsd: u.costUsd,
      budgetUsd: u.budgetUsd,
      committedUsd: u.committedUsd,
      cacheHits: Number(u.cacheHits),
    };
  }

  @ApiRoute(ROUTES.aiUsageDaily)
  usageDaily(@Req() req: AuthenticatedRequest) {
    return this.usageByDay.daily(req.principal.teamId, parseRequest(ROUTES.aiUsageDaily, req).query);
  }

  @ApiRoute(ROUTES.aiSwitchModel)
  async switchModel(@Req() req: AuthenticatedRequest) {
    const { alias } = parseRequest(ROUTES.aiSwitchModel, req).body;
    const r = await this.rpc.send(Rpc.aiModelSwitch, { alias });
    return { activeAlias: r.activeAlias, previousAlias: r.previousAlias };
  }
}

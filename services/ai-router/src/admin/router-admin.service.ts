import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { nanoToUsd, usdToNano } from '../accounting/price-table';
import { ResponseCacheRepository } from '../cache/response-cache.repository';
import { UsageLedgerRepository } from '../limits/usage-ledger.repository';
import { AiModelsConfigService } from '../models/ai-models-config.service';
import { ModelRouterService } from '../routing/model-router.service';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

// What operators ask of the router: its state, the cache, a team's usage, and the model switch.
@Injectable()
export class RouterAdminService {
  constructor(
    private readonly models: AiModelsConfigService,
    private readonly router: ModelRouterService,
    private readonly cache: ResponseCacheRepository,
    private readonly ledger: UsageLedgerRepository,
  ) {}

  status(): RpcReply<typeof Rpc.aiRouterStatus> {
    const config = this.models.current();
    return {
      activeAlias: this.models.active(),
      aliases: Object.values(config.aliases).map((a) => ({ alias: a.alias, provider: a.provider, model: a.model })),
      breakers: this.router
        .breakerSnapshots()
        .map((b) => ({ model: b.model, state: b.state, consecutiveFailures: b.consecutiveFailures, openedAt: b.openedAt?.toISOString() ?? '' })),
      configSource: config.source,
      configLoadedAt: config.loadedAt.toISOString(),
      priceTableVersion: config.prices.version,
    };
  }

  async cacheStats(): Promise<RpcReply<typeof Rpc.aiCacheStats>> {
    const config = this.models.current().cache;
    const stats = await this.cache.stats(config.ttlSeconds);
    const lookups = stats.hits + stats.misses;
    return {
      hits: BigInt(stats.hits),
      misses: BigInt(stats.misses),
      hitRate: lookups ? stats.hits / lookups : 0,
      entries: BigInt(stats.entries),
      bytes: BigInt(stats.bytes),
      maxBytes: BigInt(config.maxBytes),
      ttlSeconds: config.ttlSeconds,
      evictions: BigInt(stats.evictions),
    };
  }

  async usage(req: RpcRequest<typeof Rpc.aiUsageSummary>): Promise<RpcReply<typeof Rpc.aiUsageSummary>> {
    if (!req.teamId) throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'team_id is required');
    const day = req.day || new Date().toISOString().slice(0, 10);
    if (!DAY.test(day)) throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'day must be YYYY-MM-DD');
    const usage = await this.ledger.usage(req.teamId, day);
    const budgets = this.models.current().budgets;
    const committed = await this.ledger.committed({ scope: 'team', id: req.teamId, period: day });
    return {
      teamId: req.teamId,
      day,
      requests: BigInt(usage.requests ?? 0),
      inputTokens: BigInt(usage.input_tokens ?? 0),
      outputTokens: BigInt(usage.output_tokens ?? 0),
      cacheReadInputTokens: BigInt(usage.cache_read_tokens ?? 0),
      cacheCreationInputTokens: BigInt(usage.cache_write_tokens ?? 0),
      costUsd: nanoToUsd(usage.cost_nano ?? 0),
      budgetUsd: nanoToUsd(usdToNano(budgets.teams[req.teamId] ?? budgets.teamUsdPerDay)),
      committedUsd: nanoToUsd(committed),
      cacheHits: BigInt(usage.cache_hits ?? 0),
    };
  }

  async switchModel(req: RpcRequest<typeof Rpc.aiModelSwitch>): Promise<RpcReply<typeof Rpc.aiModelSwitch>> {
    const { active, previous } = await this.models.switchTo(req.alias.trim());
    return { activeAlias: active, previousAlias: previous };
  }
}

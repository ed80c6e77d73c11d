import { Injectable } from '@nestjs/common';
import { aiUsageSummaryView } from '@overskill/contracts';
import { AiRouterRepository } from './ai-router.repository';

// The router's state as operators read it: aliases, breakers, cache and a team's usage today.
@Injectable()
export class AiAdminService {
  constructor(private readonly router: AiRouterRepository) {}

  async status() {
    const s = await this.router.status();
    return {
      activeAlias: s.activeAlias,
      aliases: s.aliases.map((a) => ({ alias: a.alias, provider: a.provider, model: a.model })),
      breakers: s.breakers.map((b) => ({ model: b.model, state: b.state, consecutiveFailures: b.consecutiveFailures, openedAt: b.openedAt || null })),
      config: { source: s.configSource, loadedAt: s.configLoadedAt, priceTableVersion: s.priceTableVersion },
    };
  }

  async cache() {
    const c = await this.router.cacheStats();
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

  // day: a UTC date (YYYY-MM-DD); empty for today.
  async usage(teamId: string, day: string) {
    return aiUsageSummaryView(await this.router.usageSummary(teamId, day));
  }

  async switchModel(alias: string) {
    const r = await this.router.switchModel(alias);
    return { activeAlias: r.activeAlias, previousAlias: r.previousAlias };
  }
}

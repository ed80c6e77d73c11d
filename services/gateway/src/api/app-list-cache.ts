import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { TurnBatch } from '../http/turn-batch';
import { AppListGenerationsRepository } from './app-list-generations.repository';

// Pages kept per replica, the oldest dropped first: at most ~20 MB at 100 apps a page.
const MAX_PAGES = 500;
// How long the cache leaves Redis alone after a failed read of the generations.
const REDIS_BACKOFF_MS = 2000;

interface Page {
  generation: string;
  storedAt: number;
  value: unknown;
}

export type AppListCacheResult = 'hit' | 'miss' | 'bypass';

// Pages of a team's app list, kept in this replica's memory under the team's list generation in
// Redis, which the orchestrator replaces after every write to the team's apps, before it answers.
// Every request reads the generation: a page stored under an older one is never served, so a
// client that changed an app sees the change in its next list through any replica. A page also
// lives at most GATEWAY_APP_LIST_CACHE_TTL_MS, which bounds what a write that bypassed the
// orchestrator (a database restore, SQL by hand) or a replacement lost while Redis failed can
// leave stale. The reads of every request in one turn of the event loop go to Redis together.
@Injectable()
export class AppListCache {
  private readonly pages = new Map<string, Page>();
  private readonly loading = new Map<string, { generation: string; value: Promise<unknown> }>();
  private readonly turn = new TurnBatch<string, string>((teamIds) => this.readGenerations(teamIds));
  private skipRedisUntil = 0;
  private readonly lookups: Counter<'result'>;

  constructor(
    private readonly generations: AppListGenerationsRepository,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.lookups = new Counter({
      name: 'gateway_app_list_cache_total',
      help: 'App list pages by how they were answered: hit (this replica had the current page), miss (read through the orchestrator), bypass (Redis failed; read through)',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
  }

  // The page `load` reads, or the copy of it this replica holds for the team's current generation.
  async page<T>(teamId: string, query: string, load: () => Promise<T>): Promise<{ value: T; result: AppListCacheResult }> {
    const ttlMs = this.env.GATEWAY_APP_LIST_CACHE_TTL_MS;
    if (ttlMs === 0) return { value: await load(), result: 'bypass' };
    let generation: string;
    try {
      generation = await this.generationOf(teamId);
    } catch {
      this.lookups.inc({ result: 'bypass' });
      return { value: await load(), result: 'bypass' };
    }
    const key = `${teamId}\n${query}`;
    const kept = this.pages.get(key);
    if (kept && kept.generation === generation && performance.now() - kept.storedAt < ttlMs) {
      this.lookups.inc({ result: 'hit' });
      return { value: kept.value as T, result: 'hit' };
    }
    this.lookups.inc({ result: 'miss' });
    // One read per page and generation at a time, shared by the requests that wait for it.
    const pending = this.loading.get(key);
    if (pending?.generation === generation) return { value: (await pending.value) as T, result: 'miss' };
    // The page's age counts from before the read: it can only hold what was there by then.
    const startedAt = performance.now();
    const value = load();
    this.loading.set(key, { generation, value });
    try {
      const loaded = await value;
      this.keep(key, { generation, storedAt: startedAt, value: loaded });
      return { value: loaded, result: 'miss' };
    } finally {
      if (this.loading.get(key)?.value === value) this.loading.delete(key);
    }
  }

  private keep(key: string, page: Page): void {
    // A read that started earlier and ended later never replaces a newer one.
    if ((this.pages.get(key)?.storedAt ?? -Infinity) > page.storedAt) return;
    this.pages.delete(key);
    this.pages.set(key, page);
    if (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value as string);
  }

  private generationOf(teamId: string): Promise<string> {
    // Redis just failed: read through for a moment rather than wait on it with every request.
    if (performance.now() < this.skipRedisUntil) return Promise.reject(new Error('app list generations unavailable'));
    return this.turn.add(teamId);
  }

  // The generation of each request's team, for every request of one turn: one read per team.
  private async readGenerations(teamIds: string[]): Promise<string[]> {
    const teams = [...new Set(teamIds)];
    try {
      const current = await this.generations.current(teams);
      const byTeam = new Map(teams.map((teamId, i) => [teamId, current[i] as string]));
      return teamIds.map((teamId) => byTeam.get(teamId) as string);
    } catch (err) {
      this.skipRedisUntil = performance.now() + REDIS_BACKOFF_MS;
      this.logger.warn(
        { err: (err as Error).message, backoffMs: REDIS_BACKOFF_MS, requests: teamIds.length },
        'app list generations unavailable; lists read through',
      );
      throw err;
    }
  }
}

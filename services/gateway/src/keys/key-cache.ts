import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import type { ApiKeyEntity } from '../persistence/entities';

export const KEY_INVALIDATION_CHANNEL = 'gateway:apikeys:invalidate';

// A short per-replica cache of key rows by prefix, so a request costs a hash and no query.
// Revoking or rotating a key publishes its prefix on Redis; every replica drops it at once.
// When the subscription drops, the whole cache is cleared on reconnect (a missed message
// must not keep a revoked key alive), and the TTL bounds staleness in between.
// A miss loads the row once however many requests wait for it (when a busy key's entry expires,
// every request in flight would otherwise query at once), and a load that an invalidation
// overtook is answered but not cached: it may have read the row before the key was revoked.
@Injectable()
export class KeyCache implements OnModuleInit, OnModuleDestroy {
  private readonly rows = new Map<string, { row: ApiKeyEntity; until: number }>();
  private readonly loading = new Map<string, { generation: number; row: Promise<ApiKeyEntity | null> }>();
  // Moves on every invalidation and every loss of the subscription.
  private generation = 0;
  private subscriber?: Redis;
  private subscribed = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.env.GATEWAY_KEY_CACHE_TTL_MS === 0) return;
    const sub = this.redis.duplicate({ lazyConnect: true });
    this.subscriber = sub;
    sub.on('message', (_channel: string, prefix: string) => this.forget(prefix));
    sub.on('ready', () => {
      this.forgetAll();
      this.subscribed = true;
    });
    const lost = () => {
      this.subscribed = false;
      this.forgetAll();
    };
    sub.on('close', lost);
    sub.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'key invalidation subscriber error'));
    try {
      await sub.connect();
      await sub.subscribe(KEY_INVALIDATION_CHANNEL);
    } catch (err) {
      // Redis down at start: no caching until the subscriber is back (see get()).
      this.logger.warn({ err: (err as Error).message }, 'key invalidation subscriber not connected; caching off until it is');
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.subscriber?.disconnect();
  }

  get(prefix: string): ApiKeyEntity | undefined {
    const hit = this.rows.get(prefix);
    if (!hit) return undefined;
    if (!this.subscribed || hit.until < Date.now()) {
      this.rows.delete(prefix);
      return undefined;
    }
    return hit.row;
  }

  // The cached row, or the row `load` reads: one load per prefix at a time, shared by its callers.
  async getOrLoad(prefix: string, load: (prefix: string) => Promise<ApiKeyEntity | null>): Promise<ApiKeyEntity | null> {
    const cached = this.get(prefix);
    if (cached) return cached;
    // Without caching every request reads the row itself: no answer outlives its own query.
    if (!this.subscribed || this.env.GATEWAY_KEY_CACHE_TTL_MS === 0) return load(prefix);
    const pending = this.loading.get(prefix);
    if (pending?.generation === this.generation) return pending.row;
    const generation = this.generation;
    const row = load(prefix).then(
      (found) => {
        this.settled(prefix, row);
        if (found && generation === this.generation) this.set(found);
        return found;
      },
      (err: unknown) => {
        this.settled(prefix, row);
        throw err;
      },
    );
    this.loading.set(prefix, { generation, row });
    return row;
  }

  set(row: ApiKeyEntity): void {
    // Only while invalidations can reach this replica.
    if (!this.subscribed || this.env.GATEWAY_KEY_CACHE_TTL_MS === 0) return;
    if (this.rows.size > 10_000) this.rows.clear();
    this.rows.set(row.prefix, { row, until: Date.now() + this.env.GATEWAY_KEY_CACHE_TTL_MS });
  }

  // Every replica (this one included, through its own subscription) forgets the key.
  async invalidate(prefix: string): Promise<void> {
    this.forget(prefix);
    await this.redis.publish(KEY_INVALIDATION_CHANNEL, prefix);
  }

  private forget(prefix: string): void {
    this.generation++;
    this.rows.delete(prefix);
  }

  private forgetAll(): void {
    this.generation++;
    this.rows.clear();
  }

  private settled(prefix: string, row: Promise<ApiKeyEntity | null>): void {
    if (this.loading.get(prefix)?.row === row) this.loading.delete(prefix);
  }
}

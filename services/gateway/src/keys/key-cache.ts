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
@Injectable()
export class KeyCache implements OnModuleInit, OnModuleDestroy {
  private readonly rows = new Map<string, { row: ApiKeyEntity; until: number }>();
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
    sub.on('message', (_channel: string, prefix: string) => this.rows.delete(prefix));
    sub.on('ready', () => {
      this.rows.clear();
      this.subscribed = true;
    });
    const lost = () => {
      this.subscribed = false;
      this.rows.clear();
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

  set(row: ApiKeyEntity): void {
    // Only while invalidations can reach this replica.
    if (!this.subscribed || this.env.GATEWAY_KEY_CACHE_TTL_MS === 0) return;
    if (this.rows.size > 10_000) this.rows.clear();
    this.rows.set(row.prefix, { row, until: Date.now() + this.env.GATEWAY_KEY_CACHE_TTL_MS });
  }

  // Every replica (this one included, through its own subscription) forgets the key.
  async invalidate(prefix: string): Promise<void> {
    this.rows.delete(prefix);
    await this.redis.publish(KEY_INVALIDATION_CHANNEL, prefix);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { RateDecision } from '../routing/request';

export type { RateDecision };

// Fixed window counters in Redis, shared by every gateway replica: one round trip for all the
// buckets a request counts against (INCR and the window's expiry set atomically in a script). A
// window starts at its bucket's first request, so a burst is never split in two by a
// clock-aligned boundary.
const SCRIPT = `local out = {}
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i]) end
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[i]); ttl = tonumber(ARGV[i]) end
  out[2 * i - 1] = n
  out[2 * i] = ttl
end
return out`;

// How long the limiter leaves Redis alone after a failed call.
const LIMITER_BACKOFF_MS = 2000;

export interface RateHit {
  bucket: string;
  limit: number;
  windowSeconds: number;
}

// numkeys first, then the keys, then one window (ms) per key.
type LimiterRedis = Redis & { gatewayRateHits(numKeys: number, ...keysThenWindows: Array<string | number>): Promise<number[]> };

@Injectable()
export class RateLimiter {
  private readonly redis: LimiterRedis;
  private skipRedisUntil = 0;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (!('gatewayRateHits' in redis)) redis.defineCommand('gatewayRateHits', { lua: SCRIPT });
    this.redis = redis as LimiterRedis;
  }

  // Counts the request against every bucket at once; decisions in the order given.
  async hitAll(hits: RateHit[]): Promise<RateDecision[]> {
    const unlimited = () => hits.map(({ limit, windowSeconds }) => ({ allowed: true, limit, remaining: limit, resetSeconds: windowSeconds, windowSeconds }));
    // Redis just failed: skip it for a moment rather than make every request wait out its timeout.
    if (performance.now() < this.skipRedisUntil) return unlimited();
    try {
      const keys = hits.map((h) => `gw:rl:${h.windowSeconds}:${h.bucket}`);
      const counts = await this.redis.gatewayRateHits(hits.length, ...keys, ...hits.map((h) => h.windowSeconds * 1000));
      return hits.map(({ limit, windowSeconds }, i) => {
        const count = counts[2 * i] ?? 0;
        const ttlMs = counts[2 * i + 1] ?? windowSeconds * 1000;
        return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)), windowSeconds };
      });
    } catch (err) {
      // Redis down: serve rather than refuse everyone (fail open); /health/ready reports Redis.
      this.skipRedisUntil = performance.now() + LIMITER_BACKOFF_MS;
      this.logger.warn({ err: (err as Error).message, backoffMs: LIMITER_BACKOFF_MS }, 'rate limiter unavailable; requests allowed');
      return unlimited();
    }
  }
}

// A key's own bucket, counted by the edge (key row cached) or by the guard (after the key check).
export function keyRateHit(keyId: string, env: { GATEWAY_RATE_LIMIT_KEY_MAX: number; GATEWAY_RATE_LIMIT_KEY_WINDOW_SECONDS: number }): RateHit {
  return { bucket: `key:${keyId}`, limit: env.GATEWAY_RATE_LIMIT_KEY_MAX, windowSeconds: env.GATEWAY_RATE_LIMIT_KEY_WINDOW_SECONDS };
}

export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(d.resetSeconds),
    'ratelimit-policy': `${d.limit};w=${d.windowSeconds}`,
  };
}

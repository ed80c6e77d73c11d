import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  // Seconds until the window resets.
  resetSeconds: number;
  windowSeconds: number;
}

// Fixed window counters in Redis, shared by every gateway replica: one round trip (INCR and
// the window's expiry set atomically in a script). A window starts at its bucket's first
// request, so a burst is never split in two by a clock-aligned boundary.
const SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

// How long the limiter leaves Redis alone after a failed call.
const LIMITER_BACKOFF_MS = 2000;

type LimiterRedis = Redis & { gatewayRateHit(key: string, windowMs: number): Promise<[number, number]> };

@Injectable()
export class RateLimiter {
  private readonly redis: LimiterRedis;
  private skipRedisUntil = 0;

  constructor(@Inject(REDIS) redis: Redis, @Inject(LOGGER) private readonly logger: Logger) {
    if (!('gatewayRateHit' in redis)) redis.defineCommand('gatewayRateHit', { numberOfKeys: 1, lua: SCRIPT });
    this.redis = redis as LimiterRedis;
  }

  async hit(bucket: string, limit: number, windowSeconds: number): Promise<RateDecision> {
    const windowMs = windowSeconds * 1000;
    const unlimited = { allowed: true, limit, remaining: limit, resetSeconds: windowSeconds, windowSeconds };
    // Redis just failed: skip it for a moment rather than make every request wait out its timeout.
    if (performance.now() < this.skipRedisUntil) return unlimited;
    try {
      const [count, ttlMs] = await this.redis.gatewayRateHit(`gw:rl:${windowSeconds}:${bucket}`, windowMs);
      return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)), windowSeconds };
    } catch (err) {
      // Redis down: serve rather than refuse everyone (fail open); /health/ready reports Redis.
      this.skipRedisUntil = performance.now() + LIMITER_BACKOFF_MS;
      this.logger.warn({ err: (err as Error).message, backoffMs: LIMITER_BACKOFF_MS }, 'rate limiter unavailable; requests allowed');
      return unlimited;
    }
  }
}

export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(d.resetSeconds),
    'ratelimit-policy': `${d.limit};w=${d.windowSeconds}`,
  };
}

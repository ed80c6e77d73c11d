import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';
import { setImmediate } from 'node:timers';
import type { Logger } from 'pino';

import type { RateDecision } from '../routing/request';

export type { RateDecision };

// Fixed window counters in Redis, shared by every gateway replica. A window starts at its
// bucket's first request, so a burst is never split in two by a clock-aligned boundary. The hits
// of every request that arrives in one turn of the event loop go to Redis together: one script run
// counts each bucket once by the number of its hits (INCRBY; the window's expiry set atomically),
// and each hit gets the count it would have had alone, in arrival order. Under load that is one
// round trip for many requests instead of one each.
const SCRIPT = `local out = {}
local n = #KEYS
for i = 1, n do
  local by = tonumber(ARGV[n + i])
  local count = redis.call('INCRBY', KEYS[i], by)
  if count == by then redis.call('PEXPIRE', KEYS[i], ARGV[i]) end
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[i]); ttl = tonumber(ARGV[i]) end
  out[2 * i - 1] = count
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

// numkeys first, then the keys, then one window (ms) per key, then one increment per key.
type LimiterRedis = Redis & { gatewayRateCounts(numKeys: number, ...keysWindowsIncrements: Array<string | number>): Promise<number[]> };

interface Waiting {
  hits: RateHit[];
  done: (decisions: RateDecision[]) => void;
}

const unlimited = (hits: RateHit[]): RateDecision[] =>
  hits.map(({ limit, windowSeconds }) => ({ allowed: true, limit, remaining: limit, resetSeconds: windowSeconds, windowSeconds }));

@Injectable()
export class RateLimiter {
  private readonly redis: LimiterRedis;
  private skipRedisUntil = 0;
  private waiting: Waiting[] = [];

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (!('gatewayRateCounts' in redis)) redis.defineCommand('gatewayRateCounts', { lua: SCRIPT });
    this.redis = redis as LimiterRedis;
  }

  // Counts the request against every bucket; decisions in the order given.
  hitAll(hits: RateHit[]): Promise<RateDecision[]> {
    // Redis just failed: skip it for a moment rather than make every request wait out its timeout.
    if (performance.now() < this.skipRedisUntil) return Promise.resolve(unlimited(hits));
    return new Promise((done) => {
      if (this.waiting.length === 0) setImmediate(() => void this.countWaiting());
      this.waiting.push({ hits, done });
    });
  }

  private async countWaiting(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    // One slot per distinct key; each hit remembers its slot and its place among that key's hits.
    const slots = new Map<string, number>();
    const keys: string[] = [];
    const windowsMs: number[] = [];
    const increments: number[] = [];
    const placed = batch.map(({ hits, done }) => ({
      done,
      hits: hits.map((hit) => {
        const key = `gw:rl:${hit.windowSeconds}:${hit.bucket}`;
        let slot = slots.get(key);
        if (slot === undefined) {
          slot = keys.push(key) - 1;
          slots.set(key, slot);
          windowsMs.push(hit.windowSeconds * 1000);
        }
        const nth = (increments[slot] ?? 0) + 1;
        increments[slot] = nth;
        return { hit, slot, nth };
      }),
    }));
    let counts: number[];
    try {
      counts = await this.redis.gatewayRateCounts(keys.length, ...keys, ...windowsMs, ...increments);
    } catch (err) {
      // Redis down: serve rather than refuse everyone (fail open); /health/ready reports Redis.
      this.skipRedisUntil = performance.now() + LIMITER_BACKOFF_MS;
      this.logger.warn({ err: (err as Error).message, backoffMs: LIMITER_BACKOFF_MS, requests: batch.length }, 'rate limiter unavailable; requests allowed');
      for (const { hits, done } of batch) done(unlimited(hits));
      return;
    }
    for (const { hits, done } of placed) {
      done(
        hits.map(({ hit: { limit, windowSeconds }, slot, nth }) => {
          // The count this hit made: the bucket's count before the batch, plus its place in it.
          const count = (counts[2 * slot] ?? 0) - (increments[slot] ?? 0) + nth;
          const ttlMs = counts[2 * slot + 1] ?? windowSeconds * 1000;
          return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)), windowSeconds };
        }),
      );
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

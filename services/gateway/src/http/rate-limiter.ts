import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';

import type { RateDecision } from '../routing/request';
import { bucketKey, RateCountsRepository, type BucketCount } from './rate-counts.repository';
import { TurnBatch } from './turn-batch';

export type { RateDecision };

// How long the limiter leaves Redis alone after a failed call.
const LIMITER_BACKOFF_MS = 2000;

export interface RateHit {
  bucket: string;
  limit: number;
  windowSeconds: number;
}

const unlimited = (hits: RateHit[]): RateDecision[] =>
  hits.map(({ limit, windowSeconds }) => ({ allowed: true, limit, remaining: limit, resetSeconds: windowSeconds, windowSeconds }));

// A window starts at its bucket's first request, so a burst is never split in two by a
// clock-aligned boundary. The hits of every request that arrives in one turn of the event loop are
// counted together: one Redis call counts each bucket once by its number of hits, and each hit
// gets the count it would have had alone, in arrival order. Under load that is one round trip for
// many requests instead of one each.
@Injectable()
export class RateLimiter {
  private skipRedisUntil = 0;
  private readonly turn = new TurnBatch<RateHit[], RateDecision[]>((requests) => this.countTogether(requests));

  constructor(
    private readonly counts: RateCountsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // Counts the request against every bucket; decisions in the order given.
  hitAll(hits: RateHit[]): Promise<RateDecision[]> {
    // Redis just failed: skip it for a moment rather than make every request wait out its timeout.
    if (performance.now() < this.skipRedisUntil) return Promise.resolve(unlimited(hits));
    return this.turn.add(hits);
  }

  // The hits of every request of one turn; each request's decisions, in the order given.
  private async countTogether(requests: RateHit[][]): Promise<RateDecision[][]> {
    // One bucket per distinct key; each hit remembers its bucket and its place among its hits.
    const buckets: BucketCount[] = [];
    const slots = new Map<string, { bucket: BucketCount; slot: number }>();
    const placed = requests.map((hits) =>
      hits.map((hit) => {
        const key = bucketKey(hit.bucket, hit.windowSeconds);
        let found = slots.get(key);
        if (!found) {
          const bucket = { key, windowMs: hit.windowSeconds * 1000, increment: 0 };
          slots.set(key, (found = { bucket, slot: buckets.push(bucket) - 1 }));
        }
        return { hit, ...found, nth: ++found.bucket.increment };
      }),
    );
    let counted: Array<{ count: number; ttlMs: number }>;
    try {
      counted = await this.counts.countUp(buckets);
    } catch (err) {
      // Redis down: serve rather than refuse everyone (fail open); /health/ready reports Redis.
      this.skipRedisUntil = performance.now() + LIMITER_BACKOFF_MS;
      this.logger.warn({ err: (err as Error).message, backoffMs: LIMITER_BACKOFF_MS, requests: requests.length }, 'rate limiter unavailable; requests allowed');
      return requests.map(unlimited);
    }
    return placed.map((hits) =>
      hits.map(({ hit: { limit, windowSeconds }, bucket, slot, nth }) => {
        const after = counted[slot];
        // The count this hit made: the bucket's count before the batch, plus its place in it.
        const count = (after?.count ?? 0) - bucket.increment + nth;
        const ttlMs = after?.ttlMs ?? bucket.windowMs;
        return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)), windowSeconds };
      }),
    );
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

import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';

// Fixed window counters in Redis, shared by every gateway replica. Each bucket is counted up by
// its increment (INCRBY) with the window's expiry set when the bucket is new, and a counter found
// without one repaired, atomically in one script run for any number of buckets.
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

export interface BucketCount {
  key: string;
  windowMs: number;
  increment: number;
}

// numkeys first, then the keys, then one window (ms) per key, then one increment per key.
type CountingRedis = Redis & { gatewayRateCounts(numKeys: number, ...keysWindowsIncrements: Array<string | number>): Promise<number[]> };

@Injectable()
export class RateCountsRepository {
  private readonly redis: CountingRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    if (!('gatewayRateCounts' in redis)) redis.defineCommand('gatewayRateCounts', { lua: SCRIPT });
    this.redis = redis as CountingRedis;
  }

  // Each bucket's count after its increment and its window's remaining ms, in the order given.
  async countUp(buckets: BucketCount[]): Promise<Array<{ count: number; ttlMs: number }>> {
    const flat = await this.redis.gatewayRateCounts(
      buckets.length,
      ...buckets.map((b) => b.key),
      ...buckets.map((b) => b.windowMs),
      ...buckets.map((b) => b.increment),
    );
    return buckets.map((b, i) => ({ count: flat[2 * i] ?? 0, ttlMs: flat[2 * i + 1] ?? b.windowMs }));
  }
}

// A bucket's key: its window is part of it, so changing a window starts fresh counters.
export function bucketKey(bucket: string, windowSeconds: number): string {
  return `gw:rl:${windowSeconds}:${bucket}`;
}

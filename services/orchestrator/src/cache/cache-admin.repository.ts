import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type Redis from 'ioredis';

// The operator's reads and removals over the cache keys: SCAN pages (never KEYS), sizes, the
// current generations and the per-team hit counters.
@Injectable()
export class CacheAdminRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async scanPage(cursor: string, pattern: string, count: number): Promise<{ cursor: string; keys: string[] }> {
    const [next, keys] = await this.redis.scan(cursor || '0', 'MATCH', pattern, 'COUNT', count);
    return { cursor: next === '0' ? '' : next, keys };
  }

  // Bytes of each value (0 for a key that expired since the scan).
  async sizes(keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.strlen(key);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, n]) => (err ? 0 : Number(n)));
  }

  async values(keys: string[]): Promise<Array<string | null>> {
    return keys.length === 0 ? [] : this.redis.mget(keys);
  }

  async counters(key: string): Promise<Record<string, string>> {
    return this.redis.hgetall(key);
  }

  async keyCount(): Promise<number> {
    return this.redis.dbsize();
  }

  async remove(keys: string[]): Promise<number> {
    return keys.length === 0 ? 0 : this.redis.unlink(...keys);
  }
}

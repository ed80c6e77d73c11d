import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type Redis from 'ioredis';

// The shared response cache: entries with a TTL, an index by insertion time and a byte total, so
// the cache as a whole stays under its size cap (oldest entries are evicted first).
const ENTRY_PREFIX = 'ai:cache:entry:';
const INDEX = 'ai:cache:index';
const SIZES = 'ai:cache:sizes';
const STATS = 'ai:cache:stats';

const GET = `
local v = redis.call('GET', KEYS[1])
if v then redis.call('HINCRBY', KEYS[2], 'hits', 1) else redis.call('HINCRBY', KEYS[2], 'misses', 1) end
return v
`;

// KEYS: entry, index, sizes, stats. ARGV: value, ttl seconds, max bytes, now ms.
const PUT = `
local ttl = tonumber(ARGV[2]); local maxBytes = tonumber(ARGV[3]); local now = tonumber(ARGV[4])
local function drop(member, evicted)
  local size = tonumber(redis.call('HGET', KEYS[3], member) or '0')
  redis.call('HDEL', KEYS[3], member)
  redis.call('ZREM', KEYS[2], member)
  redis.call('DEL', member)
  redis.call('HINCRBY', KEYS[4], 'bytes', -size)
  if evicted then redis.call('HINCRBY', KEYS[4], 'evictions', 1) end
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl * 1000)) do drop(member, false) end
if redis.call('HEXISTS', KEYS[3], KEYS[1]) == 1 then drop(KEYS[1], false) end
local size = string.len(ARGV[1])
if size > maxBytes then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZADD', KEYS[2], now, KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
redis.call('HINCRBY', KEYS[4], 'bytes', size)
while tonumber(redis.call('HGET', KEYS[4], 'bytes') or '0') > maxBytes do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then break end
  drop(oldest[1], true)
end
return 1
`;

export interface CacheStats {
  hits: number;
  misses: number;
  bytes: number;
  evictions: number;
  entries: number;
}

type CacheRedis = Redis & {
  aiCacheGetBuffer(numKeys: number, ...args: string[]): Promise<Buffer | null>;
  aiCachePut(numKeys: number, ...args: Array<string | number | Buffer>): Promise<number>;
};

@Injectable()
export class ResponseCacheRepository {
  private readonly redis: CacheRedis;

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('aiCacheGet', { lua: GET });
    redis.defineCommand('aiCachePut', { lua: PUT });
    this.redis = redis as CacheRedis;
  }

  get(key: string): Promise<Buffer | null> {
    return this.redis.aiCacheGetBuffer(2, ENTRY_PREFIX + key, STATS);
  }

  async put(key: string, value: Uint8Array, ttlSeconds: number, maxBytes: number): Promise<boolean> {
    return (await this.redis.aiCachePut(4, ENTRY_PREFIX + key, INDEX, SIZES, STATS, Buffer.from(value), ttlSeconds, maxBytes, Date.now())) === 1;
  }

  async stats(ttlSeconds: number): Promise<CacheStats> {
    // Entries past their TTL are gone from Redis already; drop them from the index before counting.
    const [[, raw], [, entries]] = (await this.redis
      .multi()
      .hgetall(STATS)
      .zcount(INDEX, Date.now() - ttlSeconds * 1000, '+inf')
      .exec()) as [[null, Record<string, string>], [null, number]];
    return {
      hits: Number(raw.hits ?? 0),
      misses: Number(raw.misses ?? 0),
      bytes: Math.max(0, Number(raw.bytes ?? 0)),
      evictions: Number(raw.evictions ?? 0),
      entries: Number(entries),
    };
  }
}

import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ResponseCacheRepository } from './response-cache.repository';

// Against the integration stack's real Redis, under a key prefix of its own so the tiny size cap
// here never evicts another suite's entries.
describe('ResponseCacheRepository', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const redis = new Redis(url, { keyPrefix: `cache-spec-${randomUUID()}:` });
  const cache = new ResponseCacheRepository(redis);
  afterAll(() => redis.disconnect());

  it('keeps the total under the cap by evicting the oldest entries, and counts hits and misses', async () => {
    const value = (n: number) => new Uint8Array(100).fill(n);
    for (let i = 0; i < 5; i++) expect(await cache.put(`k${i}`, value(i), 300, 350)).toBe(true);
    // 5 × 100 bytes against a 350-byte cap: the two oldest are gone, the three newest stay.
    expect(await cache.get('k0')).toBeNull();
    expect(await cache.get('k1')).toBeNull();
    for (let i = 2; i < 5; i++) expect([...((await cache.get(`k${i}`)) ?? [])]).toEqual([...value(i)]);
    const stats = await cache.stats(300);
    expect(stats).toEqual({ hits: 3, misses: 2, bytes: 300, evictions: 2, entries: 3 });
  });

  it('replaces an entry in place, refuses one bigger than the whole cap, and forgets expired ones', async () => {
    const before = await cache.stats(300);
    expect(await cache.put('same', new Uint8Array(10), 300, 1000)).toBe(true);
    expect(await cache.put('same', new Uint8Array(20), 300, 1000)).toBe(true);
    expect((await cache.stats(300)).bytes - before.bytes).toBe(20);
    expect(await cache.put('huge', new Uint8Array(2000), 300, 1000)).toBe(false);
    expect(await cache.get('huge')).toBeNull();

    expect(await cache.put('brief', new Uint8Array(5), 1, 1000)).toBe(true);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await cache.get('brief')).toBeNull();
  });
});

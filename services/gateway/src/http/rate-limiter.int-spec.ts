import Redis from 'ioredis';
import pino from 'pino';
import { bucketKey, RateCountsRepository } from './rate-counts.repository';
import { RateLimiter, type RateHit } from './rate-limiter';

// The limiter and its counters over the integration stack's real Redis.
describe('RateLimiter', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const logger = pino({ level: 'silent' });
  const connections: Redis[] = [];
  const limiter = (redis = new Redis(url)) => {
    connections.push(redis);
    const made = new RateLimiter(new RateCountsRepository(redis), logger);
    const calls = jest.spyOn(redis as unknown as { gatewayRateCounts: () => Promise<number[]> }, 'gatewayRateCounts');
    return { limiter: made, calls, redis };
  };
  const bucket = (name: string, limit = 3, windowSeconds = 60): RateHit => ({ bucket: `${name}-${Date.now()}-${Math.random()}`, limit, windowSeconds });
  const counted = (d: { limit: number; remaining: number }) => d.limit - d.remaining;

  afterAll(() => connections.forEach((c) => c.disconnect()));

  it('counts the requests of one event-loop turn in one Redis call, each as if it came alone, in arrival order', async () => {
    const { limiter: l, calls } = limiter();
    const ip = bucket('ip', 3);
    const key = bucket('key', 10);
    const other = bucket('other', 3);
    const decisions = await Promise.all([
      l.hitAll([ip, key]),
      l.hitAll([ip, key]),
      l.hitAll([other]),
      l.hitAll([ip, key]),
      l.hitAll([ip]),
      l.hitAll([ip, key]),
    ]);
    expect(calls).toHaveBeenCalledTimes(1);
    const ipDecisions = [decisions[0]![0]!, decisions[1]![0]!, decisions[3]![0]!, decisions[4]![0]!, decisions[5]![0]!];
    expect(ipDecisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(ipDecisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0, 0]);
    expect([decisions[0]![1]!, decisions[1]![1]!, decisions[3]![1]!, decisions[5]![1]!].map(counted)).toEqual([1, 2, 3, 4]);
    expect(decisions[2]).toEqual([expect.objectContaining({ allowed: true, remaining: 2 })]);
    for (const d of decisions.flat()) expect(d.resetSeconds).toBeGreaterThanOrEqual(59);

    // The next turn goes on from where the bucket stands.
    const next = await l.hitAll([key]);
    expect(calls).toHaveBeenCalledTimes(2);
    expect(counted(next[0]!)).toBe(5);
  });

  it('starts a window at its bucket’s first hit and lets it expire', async () => {
    const { limiter: l, redis } = limiter();
    const short = bucket('short', 2, 1);
    await Promise.all([l.hitAll([short]), l.hitAll([short])]);
    const ttl = await redis.pttl(bucketKey(short.bucket, 1));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    expect((await l.hitAll([short]))[0]!.allowed).toBe(false);
    await new Promise((r) => setTimeout(r, ttl + 50));
    expect((await l.hitAll([short]))[0]).toEqual(expect.objectContaining({ allowed: true, remaining: 1 }));
  });

  it('repairs a counter left without an expiry', async () => {
    const { limiter: l, redis } = limiter();
    const stuck = bucket('stuck', 5, 30);
    await redis.set(bucketKey(stuck.bucket, 30), '2');
    const [d] = await l.hitAll([stuck]);
    expect(counted(d!)).toBe(3);
    expect(await redis.pttl(bucketKey(stuck.bucket, 30))).toBeGreaterThan(29_000);
  });

  it('allows every waiting request when Redis fails, then leaves Redis alone for a moment', async () => {
    // Nothing listens on port 1: every command fails at once.
    const down = new Redis({ port: 1, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    const { limiter: l, calls } = limiter(down);
    const hit = bucket('down', 1);
    const decisions = await Promise.all([l.hitAll([hit]), l.hitAll([hit]), l.hitAll([hit])]);
    expect(decisions.flat().map((d) => d.allowed)).toEqual([true, true, true]);
    expect(calls).toHaveBeenCalledTimes(1);
    expect((await l.hitAll([hit]))[0]!.allowed).toBe(true);
    expect(calls).toHaveBeenCalledTimes(1);
  });
});

import Redis from 'ioredis';
import pino from 'pino';
import type { GatewayEnv } from '../config';
import type { ApiKeyEntity } from '../persistence/entities';
import { KeyCache } from './key-cache';

// Two replicas' caches over the integration stack's real Redis.
describe('KeyCache', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const env = { GATEWAY_KEY_CACHE_TTL_MS: 60_000 } as GatewayEnv;
  const logger = pino({ level: 'silent' });
  const connections: Redis[] = [];
  const caches: KeyCache[] = [];
  const replica = async () => {
    const redis = new Redis(url);
    connections.push(redis);
    const cache = new KeyCache(redis, env, logger);
    caches.push(cache);
    await cache.onModuleInit();
    return cache;
  };
  const row = (prefix: string) => ({ id: `id-${prefix}`, prefix, teamId: 't', role: 'viewer', scopes: [], keyHash: 'h' }) as unknown as ApiKeyEntity;
  const eventually = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    return check();
  };
  // A read of the key's row that waits until released; every read made counts in `reads`.
  const heldRead = (reads: { count: number }) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const read = async (prefix: string) => {
      reads.count++;
      await gate;
      return row(prefix);
    };
    return { read, release };
  };

  // Also the subscribers of a case that failed before closing its own.
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.onModuleDestroy()));
    connections.forEach((c) => c.disconnect());
  });

  it('caches a row and drops it on every replica when one of them invalidates it', async () => {
    const a = await replica();
    const b = await replica();
    // Caching starts once the invalidation subscription is live.
    expect(await eventually(() => (b.set(row('p1')), b.get('p1') !== undefined))).toBe(true);
    a.set(row('p1'));
    b.set(row('p2'));
    expect(a.get('p1')?.id).toBe('id-p1');
    await a.invalidate('p1');
    expect(a.get('p1')).toBeUndefined();
    expect(await eventually(() => b.get('p1') === undefined)).toBe(true);
    expect(b.get('p2')?.id).toBe('id-p2');
    await a.onModuleDestroy();
    await b.onModuleDestroy();
  });

  it('loads a missing row once for every request waiting on it, then answers from the cache', async () => {
    const d = await replica();
    expect(await eventually(() => (d.set(row('p5')), d.get('p5') !== undefined))).toBe(true);
    const loads = { count: 0 };
    const { read: load, release } = heldRead(loads);
    const waiting = Array.from({ length: 50 }, () => d.getOrLoad('p6', load));
    release();
    expect((await Promise.all(waiting)).every((r) => r?.id === 'id-p6')).toBe(true);
    expect(loads.count).toBe(1);
    await d.getOrLoad('p6', load);
    expect(loads.count).toBe(1);
    // A failed load reaches every waiter and is not kept: the next request loads again.
    const failing = async () => {
      loads.count++;
      throw new Error('database unavailable');
    };
    await expect(Promise.all([d.getOrLoad('p7', failing), d.getOrLoad('p7', failing)])).rejects.toThrow('database unavailable');
    expect(loads.count).toBe(2);
    expect(await d.getOrLoad('p7', load)).toMatchObject({ id: 'id-p7' });
    await d.onModuleDestroy();
  });

  it('answers a load that an invalidation overtook but does not cache it, and later requests do not join it', async () => {
    const e = await replica();
    const f = await replica();
    expect(await eventually(() => (e.set(row('p8')), e.get('p8') !== undefined))).toBe(true);
    const loads = { count: 0 };
    // Read before the revocation committed: the row as it was.
    const { read: stale, release } = heldRead(loads);
    e.set(row('p10'));
    const first = e.getOrLoad('p9', stale);
    // Another replica revokes the key while the read is in flight; its message reaches this one
    // (and so has the one before it, once a marker published after it has arrived).
    await f.invalidate('p9');
    await f.invalidate('p10');
    expect(await eventually(() => e.get('p10') === undefined)).toBe(true);
    const afterRevoke = e.getOrLoad('p9', async (prefix) => {
      loads.count++;
      return { ...row(prefix), id: 'fresh' } as ApiKeyEntity;
    });
    expect(await eventually(() => loads.count === 2)).toBe(true);
    release();
    expect((await first)?.id).toBe('id-p9');
    expect((await afterRevoke)?.id).toBe('fresh');
    // The fresh read, which began after the invalidation, is the one cached.
    expect(e.get('p9')?.id).toBe('fresh');
    await e.onModuleDestroy();
    await f.onModuleDestroy();
  });

  it('caches nothing while its subscription is down, so a missed invalidation cannot keep a key alive', async () => {
    const c = await replica();
    expect(await eventually(() => (c.set(row('p3')), c.get('p3') !== undefined))).toBe(true);
    await c.onModuleDestroy();
    expect(await eventually(() => c.get('p3') === undefined)).toBe(true);
    c.set(row('p4'));
    expect(c.get('p4')).toBeUndefined();
  });
});

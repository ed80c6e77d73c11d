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
  const replica = async () => {
    const redis = new Redis(url);
    connections.push(redis);
    const cache = new KeyCache(redis, env, logger);
    await cache.onModuleInit();
    return cache;
  };
  const row = (prefix: string) => ({ id: `id-${prefix}`, prefix, teamId: 't', role: 'viewer', scopes: [], keyHash: 'h' }) as unknown as ApiKeyEntity;
  const eventually = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    return check();
  };

  afterAll(() => connections.forEach((c) => c.disconnect()));

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

  it('caches nothing while its subscription is down, so a missed invalidation cannot keep a key alive', async () => {
    const c = await replica();
    expect(await eventually(() => (c.set(row('p3')), c.get('p3') !== undefined))).toBe(true);
    await c.onModuleDestroy();
    expect(await eventually(() => c.get('p3') === undefined)).toBe(true);
    c.set(row('p4'));
    expect(c.get('p4')).toBeUndefined();
  });
});

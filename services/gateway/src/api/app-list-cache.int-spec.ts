import type { ServiceMetrics } from '@overskill/observability';
import { DEFAULT_CACHE_CONFIG, LeveledCache } from '@overskill/persistence';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { GatewayEnv } from '../config';
import { AppListCache } from './app-list-cache';
import { AppListGenerationsRepository } from './app-list-generations.repository';

// Gateway replicas' list caches over the integration stack's real Redis, with the orchestrator's
// own invalidation (LeveledCache.dropTeamApps) as the writer.
describe('AppListCache', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const logger = pino({ level: 'silent' });
  const connections: Redis[] = [];
  const connect = async (target = url) => {
    const redis = new Redis(target, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    connections.push(redis);
    await redis.connect().catch(() => undefined);
    return redis;
  };
  const replica = async (ttlMs = 60_000, redis?: Redis) => {
    const registry = new Registry();
    const generations = new AppListGenerationsRepository(redis ?? (await connect()));
    const cache = new AppListCache(generations, { GATEWAY_APP_LIST_CACHE_TTL_MS: ttlMs } as GatewayEnv, { registry } as ServiceMetrics, logger);
    return { cache, generations, registry };
  };
  let orchestrator: LeveledCache;
  // A loader that answers `value` and counts its calls.
  const loader = (value: () => string) => {
    const calls = { count: 0 };
    const load = async () => {
      calls.count++;
      return value();
    };
    return { load, calls };
  };
  const counted = async (registry: Registry) =>
    Object.fromEntries(((await registry.getSingleMetric('gateway_app_list_cache_total')?.get())?.values ?? []).map((v) => [v.labels['result'], v.value]));

  beforeAll(async () => {
    orchestrator = new LeveledCache(await connect(), DEFAULT_CACHE_CONFIG, new Registry());
  });
  afterAll(() => connections.forEach((c) => c.disconnect()));

  it('answers from its copy until the orchestrator changes the team’s apps, on every replica', async () => {
    const team = randomUUID();
    let current = 'v1';
    const a = await replica();
    const b = await replica();
    const fromA = loader(() => current);
    const fromB = loader(() => current);
    expect(await a.cache.page(team, '20\n', fromA.load)).toEqual({ value: 'v1', result: 'miss' });
    expect(await a.cache.page(team, '20\n', fromA.load)).toEqual({ value: 'v1', result: 'hit' });
    expect(await b.cache.page(team, '20\n', fromB.load)).toEqual({ value: 'v1', result: 'miss' });
    expect(await b.cache.page(team, '20\n', fromB.load)).toEqual({ value: 'v1', result: 'hit' });

    current = 'v2';
    await orchestrator.dropTeamApps(team);
    expect(await a.cache.page(team, '20\n', fromA.load)).toEqual({ value: 'v2', result: 'miss' });
    expect(await b.cache.page(team, '20\n', fromB.load)).toEqual({ value: 'v2', result: 'miss' });
    expect(await a.cache.page(team, '20\n', fromA.load)).toEqual({ value: 'v2', result: 'hit' });
    expect([fromA.calls.count, fromB.calls.count]).toEqual([2, 2]);
    expect(await counted(a.registry)).toEqual({ hit: 2, miss: 2 });
  });

  it('keeps teams and pages apart', async () => {
    const [team1, team2] = [randomUUID(), randomUUID()];
    const { cache } = await replica();
    expect((await cache.page(team1, '20\n', async () => 'team1')).value).toBe('team1');
    expect((await cache.page(team2, '20\n', async () => 'team2')).value).toBe('team2');
    expect((await cache.page(team1, '5\n', async () => 'team1 first 5')).value).toBe('team1 first 5');
    expect((await cache.page(team1, '20\nafter-x', async () => 'team1 next')).value).toBe('team1 next');
    // A change to one team leaves the other's pages alone.
    await orchestrator.dropTeamApps(team1);
    expect(await cache.page(team2, '20\n', async () => 'reloaded')).toEqual({ value: 'team2', result: 'hit' });
    expect(await cache.page(team1, '20\n', async () => 'team1 changed')).toEqual({ value: 'team1 changed', result: 'miss' });
  });

  it('reads a page again once it is older than the TTL, whatever the generation', async () => {
    const team = randomUUID();
    const { cache } = await replica(50);
    const counter = loader(() => 'same');
    await cache.page(team, '20\n', counter.load);
    await cache.page(team, '20\n', counter.load);
    expect(counter.calls.count).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect((await cache.page(team, '20\n', counter.load)).result).toBe('miss');
    expect(counter.calls.count).toBe(2);
  });

  it('serves a read that a change overtook to its own callers, and never to a later one', async () => {
    const team = randomUUID();
    const { cache } = await replica();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Read from the database before the change committed, answered after it.
    const slow = cache.page(team, '20\n', async () => {
      await gate;
      return 'before';
    });
    const sharing = cache.page(team, '20\n', async () => 'not read: the first read is shared');
    await new Promise((r) => setTimeout(r, 20));
    await orchestrator.dropTeamApps(team);
    // A request after the change reads for itself, even while the older read is still going.
    expect(await cache.page(team, '20\n', async () => 'after')).toEqual({ value: 'after', result: 'miss' });
    release();
    expect((await slow).value).toBe('before');
    expect((await sharing).value).toBe('before');
    // The older read, ended last, did not replace the newer page.
    expect(await cache.page(team, '20\n', async () => 'not read')).toEqual({ value: 'after', result: 'hit' });
  });

  it('reads the generations of every request in one turn with one round trip, and shares one read per page', async () => {
    const team = randomUUID();
    const { cache, generations } = await replica();
    const rounds = jest.spyOn(generations, 'current');
    const counter = loader(() => 'page');
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.page(team, '20\n', counter.load)));
    expect(results.every((r) => r.value === 'page')).toBe(true);
    expect(rounds).toHaveBeenCalledTimes(1);
    expect(rounds.mock.calls[0]?.[0]).toHaveLength(1);
    expect(counter.calls.count).toBe(1);
  });

  it('keeps at most 500 pages, dropping the oldest first', async () => {
    const team = randomUUID();
    const { cache } = await replica();
    for (let i = 0; i <= 500; i++) await cache.page(team, `20\ncursor-${i}`, async () => `page ${i}`);
    expect((await cache.page(team, '20\ncursor-500', async () => 'read again')).result).toBe('hit');
    expect((await cache.page(team, '20\ncursor-1', async () => 'read again')).result).toBe('hit');
    expect(await cache.page(team, '20\ncursor-0', async () => 'read again')).toEqual({ value: 'read again', result: 'miss' });
  });

  it('does not keep a failed read', async () => {
    const team = randomUUID();
    const { cache } = await replica();
    await expect(cache.page(team, '20\n', () => Promise.reject(new Error('orchestrator unavailable')))).rejects.toThrow('orchestrator unavailable');
    expect(await cache.page(team, '20\n', async () => 'answered')).toEqual({ value: 'answered', result: 'miss' });
  });

  it('reads through every time while Redis is unreachable, and when turned off', async () => {
    // A port nothing listens on: the connection fails, the client stays down.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port;
        server.close(() => resolve(port));
      });
    });
    const down = await replica(60_000, await connect(`redis://127.0.0.1:${closed}`));
    const counter = loader(() => 'from the orchestrator');
    const team = randomUUID();
    for (let i = 0; i < 3; i++) expect(await down.cache.page(team, '20\n', counter.load)).toEqual({ value: 'from the orchestrator', result: 'bypass' });
    expect(counter.calls.count).toBe(3);
    expect(await counted(down.registry)).toEqual({ bypass: 3 });

    const off = await replica(0);
    await off.cache.page(team, '20\n', counter.load);
    await off.cache.page(team, '20\n', counter.load);
    expect(counter.calls.count).toBe(5);
  });
});

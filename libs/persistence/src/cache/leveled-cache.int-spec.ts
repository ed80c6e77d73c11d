import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { REDIS_CLIENT_OPTIONS } from '../persistence.module';
import { DEFAULT_CACHE_CONFIG, type CacheConfig } from './cache-config';
import { LeveledCache } from './leveled-cache';

// Against the integration stack's real Redis.
describe('LeveledCache', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const redis = new Redis(url, REDIS_CLIENT_OPTIONS);
  const registry = new Registry();
  const cache = new LeveledCache(redis, DEFAULT_CACHE_CONFIG, registry);
  const clients: Redis[] = [redis];
  const servers: Server[] = [];

  beforeAll(async () => {
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  const counter = async (name: string, level: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.level === level)?.value ?? 0;
  // A loader that says how often it ran.
  const loader = <T>(value: T) => {
    const fn = jest.fn(async () => value);
    return fn;
  };

  it('answers the second lookup of each level from Redis and counts hits and misses per level', async () => {
    const scope = { teamId: randomUUID(), appId: randomUUID() };
    const before = { hits: await counter('cache_hits_total', 'tenant'), misses: await counter('cache_misses_total', 'tenant') };
    const tree = loader(['index.html', 'src/app.js']);
    expect(await cache.tenant('app_schema', scope, tree)).toEqual(['index.html', 'src/app.js']);
    expect(await cache.tenant('app_schema', scope, tree)).toEqual(['index.html', 'src/app.js']);
    expect(tree).toHaveBeenCalledTimes(1);
    expect(await counter('cache_hits_total', 'tenant')).toBe(before.hits + 1);
    expect(await counter('cache_misses_total', 'tenant')).toBe(before.misses + 1);

    const content = loader({ text: 'hello' });
    await cache.file('file_contents', { ...scope, path: 'index.html' }, content);
    expect(await cache.file('file_contents', { ...scope, path: 'index.html' }, content)).toEqual({ text: 'hello' });
    expect(content).toHaveBeenCalledTimes(1);
    const key = `catalog-${randomUUID()}`;
    const catalog = loader({ tools: ['read_file'] });
    await cache.global('ai_standards', key, catalog);
    await cache.global('ai_standards', key, catalog);
    expect(catalog).toHaveBeenCalledTimes(1);
    // The per-team counters the operator's `cache stats` reads.
    expect(await redis.hget('overskill:cache:stats', `tenant:${scope.teamId}:hits`)).toBe('1');
    expect(await redis.hget('overskill:cache:stats', `tenant:${scope.teamId}:misses`)).toBe('1');
  });

  it('never serves one team an entry of another, even for the same app id and file name', async () => {
    const appId = randomUUID();
    const a = { teamId: randomUUID(), appId };
    const b = { teamId: randomUUID(), appId };
    await cache.tenant('app_schema', a, async () => ['secret-a.txt']);
    await cache.file('file_contents', { ...a, path: 'config.json' }, async () => 'team a');
    expect(await cache.tenant('app_schema', b, async () => ['b.txt'])).toEqual(['b.txt']);
    expect(await cache.file('file_contents', { ...b, path: 'config.json' }, async () => 'team b')).toBe('team b');
    // Each keeps its own.
    expect(await cache.file('file_contents', { ...a, path: 'config.json' }, async () => 'reloaded')).toBe('team a');
    expect(await cache.file('file_contents', { ...b, path: 'config.json' }, async () => 'reloaded')).toBe('team b');
    await expect(cache.tenant('app_schema', { teamId: '', appId }, async () => [])).rejects.toThrow('needs a team id');
  });

  it('drops a changed file, and the file tree only when the structure changed', async () => {
    const scope = { teamId: randomUUID(), appId: randomUUID() };
    const read = (path: string, value: string) => cache.file('file_contents', { ...scope, path }, async () => value);
    await read('a.txt', 'a1');
    await read('b.txt', 'b1');
    await cache.tenant('app_schema', scope, async () => ['a.txt', 'b.txt']);
    const invalidations = await counter('cache_invalidations_total', 'file');

    // A write to a.txt (no new file): its entry goes, b.txt's and the tree stay.
    await cache.dropFiles(scope.appId, ['a.txt'], { structure: false });
    expect(await read('a.txt', 'a2')).toBe('a2');
    expect(await read('b.txt', 'b2')).toBe('b1');
    expect(await cache.tenant('app_schema', scope, async () => ['changed'])).toEqual(['a.txt', 'b.txt']);
    expect(await counter('cache_invalidations_total', 'file')).toBe(invalidations + 1);

    // A rename: both paths and the tree go.
    await cache.dropFiles(scope.appId, ['b.txt', 'c.txt'], { structure: true });
    expect(await read('b.txt', 'b3')).toBe('b3');
    expect(await read('a.txt', 'a3')).toBe('a2');
    expect(await cache.tenant('app_schema', scope, async () => ['a.txt', 'c.txt'])).toEqual(['a.txt', 'c.txt']);

    // A restore: every tenant and file entry of the app goes; another app's stay.
    const other = { teamId: scope.teamId, appId: randomUUID() };
    await cache.tenant('app_schema', other, async () => ['other']);
    await cache.dropApp(scope.appId);
    expect(await read('a.txt', 'a4')).toBe('a4');
    expect(await cache.tenant('app_schema', scope, async () => ['restored'])).toEqual(['restored']);
    expect(await cache.tenant('app_schema', other, async () => ['reloaded'])).toEqual(['other']);
  });

  it("edits the file tree in place when files are created or deleted, and keeps no other team's or a stale tree", async () => {
    const scope = { teamId: randomUUID(), appId: randomUUID() };
    const untouched = loader(['never']);
    await cache.tenant('app_schema', scope, async () => ['a.txt', 'b.txt']);
    await cache.editFileTree(scope, { add: ['src/new file.ts', 'b.txt', 'ü/é.md'] });
    expect(await cache.tenant('app_schema', scope, untouched)).toEqual(['a.txt', 'b.txt', 'src/new file.ts', 'ü/é.md']);
    await cache.editFileTree(scope, { remove: ['a.txt', 'missing.txt'] });
    expect(await cache.tenant('app_schema', scope, untouched)).toEqual(['b.txt', 'src/new file.ts', 'ü/é.md']);
    await cache.editFileTree(scope, { remove: ['b.txt', 'src/new file.ts', 'ü/é.md'] });
    expect(await cache.tenant('app_schema', scope, untouched)).toEqual([]);
    expect(untouched).not.toHaveBeenCalled();

    // The same app id under another team has no tree to edit; the next read loads its own.
    const other = { teamId: randomUUID(), appId: scope.appId };
    await cache.editFileTree(other, { add: ['x.txt'] });
    expect(await cache.tenant('app_schema', other, async () => ['loaded'])).toEqual(['loaded']);

    // A tree loaded before an edit and stored after it is never served.
    const racing = { teamId: randomUUID(), appId: randomUUID() };
    let release!: () => void;
    const slow = cache.tenant('app_schema', racing, () => new Promise<string[]>((resolve) => (release = () => resolve(['before.txt']))));
    await new Promise((r) => setTimeout(r, 50));
    await cache.editFileTree(racing, { add: ['created.txt'] });
    release();
    expect(await slow).toEqual(['before.txt']);
    expect(await cache.tenant('app_schema', racing, async () => ['before.txt', 'created.txt'])).toEqual(['before.txt', 'created.txt']);
    await expect(cache.editFileTree({ teamId: '', appId: racing.appId }, { add: ['y'] })).rejects.toThrow('needs a team id');
  });

  it('does not keep a value loaded before a write that landed while it loaded', async () => {
    const scope = { teamId: randomUUID(), appId: randomUUID(), path: 'race.txt' };
    let release!: () => void;
    const slow = cache.file('file_contents', scope, () => new Promise<string>((resolve) => (release = () => resolve('old'))));
    await new Promise((r) => setTimeout(r, 50));
    await cache.dropFiles(scope.appId, ['race.txt'], { structure: false });
    release();
    expect(await slow).toBe('old');
    expect(await cache.file('file_contents', scope, async () => 'new')).toBe('new');
  });

  it('stores nothing over the level size limit, and still answers', async () => {
    const small: CacheConfig = { ...DEFAULT_CACHE_CONFIG, levels: { ...DEFAULT_CACHE_CONFIG.levels, file: { ttlSeconds: 600, maxEntryBytes: 64 } } };
    const limited = new LeveledCache(redis, small, new Registry());
    const scope = { teamId: randomUUID(), appId: randomUUID(), path: 'big.txt' };
    const big = loader('x'.repeat(100));
    expect(await limited.file('file_contents', scope, big)).toHaveLength(100);
    await limited.file('file_contents', scope, big);
    expect(big).toHaveBeenCalledTimes(2);
    expect(await redis.ttl(`overskill:cache:gen:app:${scope.appId}`)).toBeGreaterThan(0);
  });

  it('passes through to the loader when Redis is down or wedged, without an error', async () => {
    // Down: nothing listens.
    const down = new Redis('redis://127.0.0.1:9', { ...REDIS_CLIENT_OPTIONS, lazyConnect: true });
    clients.push(down);
    await down.connect().catch(() => undefined);
    const reg = new Registry();
    const offline = new LeveledCache(down, DEFAULT_CACHE_CONFIG, reg);
    const scope = { teamId: randomUUID(), appId: randomUUID() };
    const tree = loader(['x']);
    expect(await offline.tenant('app_schema', scope, tree)).toEqual(['x']);
    expect(await offline.tenant('app_schema', scope, tree)).toEqual(['x']);
    expect(tree).toHaveBeenCalledTimes(2);
    await expect(offline.dropApp(scope.appId)).resolves.toBeUndefined();
    expect((await reg.getSingleMetric('cache_bypassed_total')!.get()).values.find((v) => v.labels.level === 'tenant')?.value).toBe(2);

    // Wedged: a server that accepts the connection and never answers.
    const sockets: Socket[] = [];
    const wedge = createServer((socket) => void sockets.push(socket)).listen(0, '127.0.0.1');
    servers.push(wedge);
    await new Promise((r) => wedge.once('listening', r));
    const port = (wedge.address() as { port: number }).port;
    const stuck = new Redis(`redis://127.0.0.1:${port}`, { ...REDIS_CLIENT_OPTIONS, enableReadyCheck: false });
    clients.push(stuck);
    await new Promise((r) => stuck.once('ready', r));
    const slow = new LeveledCache(stuck, { ...DEFAULT_CACHE_CONFIG, operationTimeoutMs: 100 }, new Registry());
    const started = Date.now();
    expect(await slow.file('file_contents', { ...scope, path: 'a' }, async () => 'from disk')).toBe('from disk');
    expect(Date.now() - started).toBeLessThan(1500);
    stuck.disconnect();
    for (const socket of sockets) socket.destroy();
  });
});

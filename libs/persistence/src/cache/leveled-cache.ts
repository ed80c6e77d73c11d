import type Redis from 'ioredis';
import { RandomPool } from '@overskill/contracts';
import { Counter, type Registry } from 'prom-client';
import { CACHE_ENTRIES, type CacheConfig, type CacheEntryName, type CacheLevel } from './cache-config';
import { cacheKeys } from './cache-keys';

type EntryAt<L extends CacheLevel> = { [N in CacheEntryName]: (typeof CACHE_ENTRIES)[N] extends L ? N : never }[CacheEntryName];

export interface TenantScope {
  teamId: string;
  appId: string;
}

export interface FileScope extends TenantScope {
  path: string;
}

// One round trip per lookup: read (or start) the generations the key depends on, build the key,
// GET it and count the hit or miss. KEYS: the stats hash, then the generation keys (app, then tree or file).
// ARGV: key prefix, key suffix, a fresh token for a missing generation, the generations' TTL, the
// stats field. A generation is a random token, never a counter: an evicted or expired one is
// replaced by a new token, so entries stored under the old one can never be served again.
const LOOKUP = `
local gens = {}
for i = 2, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = ARGV[3] .. i
    redis.call('SET', KEYS[i], g, 'EX', ARGV[4])
  end
  gens[#gens + 1] = g
end
local key = ARGV[1]
if #gens > 0 then key = key .. table.concat(gens, '.') .. ':' end
key = key .. ARGV[2]
local value = redis.call('GET', key)
redis.call('HINCRBY', KEYS[1], ARGV[5] .. (value and ':hits' or ':misses'), 1)
return {key, value}
`;

// A change to an app's cached file tree in place, under a fresh tree generation: the tree
// generation is replaced (as a drop would), and the entry stored under the old one, when there
// is one, is stored again under the new one with the paths removed and added. A loader that read
// the tree before the change stores under the old generation, which is never served again.
// KEYS: the app generation, the tree generation. ARGV: key prefix, key suffix, the fresh token,
// the generations' TTL, the entry's TTL, its size limit, the paths to add and to remove (JSON).
// Returns 1 when the entry was carried over, 0 when there was none (the next reader loads it).
const EDIT_TREE = `
local app = redis.call('GET', KEYS[1])
local tree = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
if not app or not tree then return 0 end
local stored = redis.call('GET', ARGV[1] .. app .. '.' .. tree .. ':' .. ARGV[2])
if not stored then return 0 end
local gone = {}
for _, path in ipairs(cjson.decode(ARGV[8])) do gone[path] = true end
local paths, listed = {}, {}
for _, path in ipairs(cjson.decode(stored)) do
  if not gone[path] and not listed[path] then paths[#paths + 1] = path; listed[path] = true end
end
for _, path in ipairs(cjson.decode(ARGV[7])) do
  if not listed[path] then paths[#paths + 1] = path; listed[path] = true end
end
local text = '[]'
if #paths > 0 then text = cjson.encode(paths) end
if #text > tonumber(ARGV[6]) then return 0 end
redis.call('SET', ARGV[1] .. app .. '.' .. ARGV[3] .. ':' .. ARGV[2], text, 'EX', ARGV[5])
return 1
`;

interface LookupCommands {
  cacheLookup(numKeys: number, ...args: string[]): Promise<[string, string | null]>;
  cacheEditTree(numKeys: number, ...args: string[]): Promise<number>;
}

class CacheTimeout extends Error {}

// The seed's three cache levels on Redis. Every value is loaded through here: a hit skips the
// loader, a miss stores what it returns. Redis down, slow or erroring makes the cache a
// pass-through (the loader runs, nothing fails). Keys of the tenant and file levels always carry
// the team id and the app's generation; invalidation replaces a generation (see LOOKUP).
export class LeveledCache {
  private readonly hits: Counter<'level'>;
  private readonly misses: Counter<'level'>;
  private readonly bypassed: Counter<'level'>;
  private readonly invalidations: Counter<'level'>;

  constructor(
    private readonly redis: Redis,
    readonly config: CacheConfig,
    registry: Registry,
  ) {
    const registers = [registry];
    this.hits = new Counter({
      name: 'cache_hits_total',
      help: 'Cache lookups answered from Redis, by level (global, tenant, file)',
      labelNames: ['level'],
      registers,
    });
    this.misses = new Counter({
      name: 'cache_misses_total',
      help: 'Cache lookups that ran the loader and stored its value, by level',
      labelNames: ['level'],
      registers,
    });
    this.bypassed = new Counter({
      name: 'cache_bypassed_total',
      help: 'Cache lookups that went straight to the loader because Redis failed or was slow, by level',
      labelNames: ['level'],
      registers,
    });
    this.invalidations = new Counter({
      name: 'cache_invalidations_total',
      help: 'Cache entries or generations dropped because what they hold changed, by level',
      labelNames: ['level'],
      registers,
    });
    if (!('cacheLookup' in redis)) redis.defineCommand('cacheLookup', { lua: LOOKUP });
    if (!('cacheEditTree' in redis)) redis.defineCommand('cacheEditTree', { lua: EDIT_TREE });
  }

  // Shared by every team.
  global<T>(name: EntryAt<'global'>, key: string, load: () => Promise<T>): Promise<T> {
    return this.fetch('global', '', [], `${cacheKeys.globalPrefix(name)}`, key, load);
  }

  // One team's app.
  tenant<T>(name: EntryAt<'tenant'>, scope: TenantScope, load: () => Promise<T>): Promise<T> {
    const gens = [cacheKeys.appGeneration(scope.appId), cacheKeys.treeGeneration(scope.appId)];
    return this.fetch('tenant', scope.teamId, gens, cacheKeys.tenantPrefix(scope), name, load);
  }

  // One file of one team's app.
  file<T>(name: EntryAt<'file'>, scope: FileScope, load: () => Promise<T>): Promise<T> {
    const gens = [cacheKeys.appGeneration(scope.appId), cacheKeys.fileGeneration(scope.appId, scope.path)];
    return this.fetch('file', scope.teamId, gens, cacheKeys.filePrefix(scope), `${name}:${scope.path}`, load);
  }

  // After a file changed: its file-level entries go; with `structure` (created, deleted or
  // renamed) the app's tenant entries too, since the file tree changed.
  async dropFiles(appId: string, paths: string[], opts: { structure: boolean }): Promise<void> {
    const ttl = this.generationTtlSeconds();
    await this.guard(async () => {
      const pipeline = this.redis.pipeline();
      for (const path of new Set(paths)) pipeline.set(cacheKeys.fileGeneration(appId, path), generationToken(), 'EX', ttl);
      if (opts.structure) pipeline.set(cacheKeys.treeGeneration(appId), generationToken(), 'EX', ttl);
      await pipeline.exec();
    });
    this.invalidations.inc({ level: 'file' }, new Set(paths).size);
    if (opts.structure) this.invalidations.inc({ level: 'tenant' });
  }

  // After files were created or deleted whose paths the app's file tree (`app_schema`, a list of
  // paths in any order) gains or loses: the cached tree is edited rather than dropped, so the next
  // run does not list the whole working tree again. Without Redis the tree is simply not cached.
  async editFileTree(scope: TenantScope, edit: { add?: string[]; remove?: string[] }): Promise<void> {
    if (!scope.teamId) throw new Error('a tenant-level cache entry needs a team id');
    const { ttlSeconds, maxEntryBytes } = this.config.levels.tenant;
    await this.guard(() =>
      (this.redis as unknown as LookupCommands).cacheEditTree(
        2,
        cacheKeys.appGeneration(scope.appId),
        cacheKeys.treeGeneration(scope.appId),
        cacheKeys.tenantPrefix(scope),
        'app_schema' satisfies EntryAt<'tenant'>,
        generationToken(),
        String(this.generationTtlSeconds()),
        String(ttlSeconds),
        String(maxEntryBytes),
        JSON.stringify(edit.add ?? []),
        JSON.stringify(edit.remove ?? []),
      ),
    );
  }

  // After a change to the whole app (restored, reverted, its settings edited, deleted): every
  // tenant and file entry of it goes at once.
  async dropApp(appId: string): Promise<void> {
    await this.guard(() => this.redis.set(cacheKeys.appGeneration(appId), generationToken(), 'EX', this.generationTtlSeconds()));
    this.invalidations.inc({ level: 'tenant' });
    this.invalidations.inc({ level: 'file' });
  }

  // After an app of the team was created, changed or deleted: every gateway replica's cached pages
  // of the team's app list stop matching (see the gateway's AppListCache).
  async dropTeamApps(teamId: string): Promise<void> {
    await this.guard(() => this.redis.set(cacheKeys.teamAppsGeneration(teamId), generationToken(), 'EX', this.generationTtlSeconds()));
    this.invalidations.inc({ level: 'tenant' });
  }

  private async fetch<T>(level: CacheLevel, teamId: string, gens: string[], prefix: string, suffix: string, load: () => Promise<T>): Promise<T> {
    if (level !== 'global' && !teamId) throw new Error(`a ${level}-level cache entry needs a team id`);
    let found: [string, string | null] | undefined;
    try {
      found = await this.withTimeout(() =>
        (this.redis as unknown as LookupCommands).cacheLookup(
          1 + gens.length,
          cacheKeys.stats,
          ...gens,
          prefix,
          suffix,
          generationToken(),
          String(this.generationTtlSeconds()),
          `${level}:${teamId || '-'}`,
        ),
      );
    } catch {
      this.bypassed.inc({ level });
      return load();
    }
    const [key, cached] = found;
    if (cached !== null) {
      this.hits.inc({ level });
      return JSON.parse(cached) as T;
    }
    this.misses.inc({ level });
    const value = await load();
    const text = JSON.stringify(value);
    const { ttlSeconds, maxEntryBytes } = this.config.levels[level];
    if (text !== undefined && Buffer.byteLength(text) <= maxEntryBytes) await this.guard(() => this.redis.set(key, text, 'EX', ttlSeconds), level);
    return value;
  }

  // Generations outlive the entries that depend on them; a lost one only costs misses.
  private generationTtlSeconds(): number {
    return 2 * Math.max(...Object.values(this.config.levels).map((l) => l.ttlSeconds));
  }

  private async guard(work: () => Promise<unknown>, level?: CacheLevel): Promise<void> {
    try {
      await this.withTimeout(work);
    } catch {
      if (level) this.bypassed.inc({ level });
    }
  }

  private withTimeout<T>(work: () => Promise<T>): Promise<T> {
    // Without a connection a command would fail anyway; do not even queue it.
    if (this.redis.status !== 'ready') return Promise.reject(new CacheTimeout('redis not ready'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CacheTimeout(`cache call over ${this.config.operationTimeoutMs} ms`)), this.config.operationTimeoutMs);
    });
    return Promise.race([work(), timeout]).finally(() => clearTimeout(timer));
  }
}

// A fresh generation: what an entry stored under the one it replaces no longer matches. Every
// lookup makes one (in case its generation is missing), so the tokens are cut from a pool.
const TOKEN_BYTES = 6;
const tokenBytes = new RandomPool(TOKEN_BYTES * 680);

export function generationToken(): string {
  return tokenBytes.take(TOKEN_BYTES).toString('base64url');
}

import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, Rpc, type cacheV1 } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { CACHE_LEVELS, cacheKeys, describeCacheKey, LeveledCache, type CacheLevel } from '@overskill/persistence';
import { CacheAdminRepository } from './cache-admin.repository';

const DEFAULT_BATCH = 500;
const MAX_BATCH = 5000;

type Row = Omit<cacheV1.CacheLevelStats, '$typeName' | '$unknown'>;

// Stats and cleanup of the cache levels, one SCAN page per call (the caller loops on the cursor).
@Injectable()
export class CacheService {
  constructor(
    private readonly keys: CacheAdminRepository,
    private readonly cache: LeveledCache,
  ) {}

  async stats(req: RpcRequest<typeof Rpc.cacheStats>): Promise<RpcReply<typeof Rpc.cacheStats>> {
    const { level, teamId, batch } = this.validate(req);
    const page = await this.keys.scanPage(req.cursor, this.pattern(level, teamId), batch);
    const found = this.select(page.keys, level, teamId);
    const sizes = await this.keys.sizes(found.map((f) => f.key));
    const stale = await this.staleFlags(found);
    const rows = new Map<string, Row>();
    const row = (l: string, team: string) => {
      const id = `${l}|${team}`;
      let r = rows.get(id);
      if (!r) rows.set(id, (r = { level: l, teamId: team, entries: 0n, bytes: 0n, hits: 0n, misses: 0n, staleEntries: 0n }));
      return r;
    };
    found.forEach((f, i) => {
      const r = row(f.level, f.teamId);
      r.entries += 1n;
      r.bytes += BigInt(sizes[i] ?? 0);
      if (stale[i]) r.staleEntries += 1n;
    });
    const first = !req.cursor;
    if (first) {
      // `<level>:<team or ->:hits|misses`, counted by every lookup.
      for (const [field, value] of Object.entries(await this.keys.counters(cacheKeys.stats))) {
        const [l = '', team = '', kind = ''] = field.split(':');
        const t = team === '-' ? '' : team;
        if ((level && l !== level) || (teamId && t !== teamId) || !(CACHE_LEVELS as readonly string[]).includes(l)) continue;
        if (kind === 'hits') row(l, t).hits += BigInt(value);
        if (kind === 'misses') row(l, t).misses += BigInt(value);
      }
    }
    const ttlSeconds = first ? Object.fromEntries(CACHE_LEVELS.map((l) => [l, BigInt(this.cache.config.levels[l].ttlSeconds)])) : {};
    return { rows: [...rows.values()], cursor: page.cursor, scanned: BigInt(page.keys.length), totalKeys: BigInt(await this.keys.keyCount()), ttlSeconds };
  }

  // Without `all`, only entries a write made unreachable go (the seed's "clear old cache"): the
  // current ones keep serving. With `all`, every entry of the level and team.
  async cleanup(req: RpcRequest<typeof Rpc.cacheCleanup>): Promise<RpcReply<typeof Rpc.cacheCleanup>> {
    const { level, teamId, batch } = this.validate(req);
    const page = await this.keys.scanPage(req.cursor, this.pattern(level, teamId), batch);
    const found = this.select(page.keys, level, teamId);
    const stale = req.all ? found.map(() => true) : await this.staleFlags(found);
    const matched = found.filter((_, i) => stale[i]).map((f) => f.key);
    const bytes = (await this.keys.sizes(matched)).reduce((a, b) => a + b, 0);
    const removed = req.dryRun ? 0 : await this.keys.remove(matched);
    return {
      scanned: BigInt(page.keys.length),
      matched: BigInt(matched.length),
      removed: BigInt(removed),
      bytes: BigInt(bytes),
      cursor: page.cursor,
      totalKeys: BigInt(await this.keys.keyCount()),
      dryRun: req.dryRun,
    };
  }

  private validate(req: { level: string; teamId: string; batch: number; cursor: string }): { level: CacheLevel | ''; teamId: string; batch: number } {
    // Redis's SCAN cursor is an unsigned number it handed out; anything else is refused by Redis itself.
    if (req.cursor && !/^\d{1,20}$/.test(req.cursor)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'cursor must be one a previous page returned');
    if (req.level && !(CACHE_LEVELS as readonly string[]).includes(req.level)) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, `level must be one of ${CACHE_LEVELS.join(', ')} (got "${req.level}")`);
    }
    if (req.teamId && !isEntityId(req.teamId)) throw new AppError(ErrorCode.VALIDATION_FAILED, `team must be a team id (a UUID), got "${req.teamId}"`);
    if (req.teamId && req.level === 'global')
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'the global level belongs to no team: give --level tenant or file with --team');
    if (req.batch < 0 || req.batch > MAX_BATCH) throw new AppError(ErrorCode.VALIDATION_FAILED, `batch must be 1 to ${MAX_BATCH}`);
    return { level: req.level as CacheLevel | '', teamId: req.teamId, batch: req.batch || DEFAULT_BATCH };
  }

  private pattern(level: CacheLevel | '', teamId: string): string {
    return level ? cacheKeys.levelPattern(level, teamId) : 'overskill:cache:*';
  }

  // Entries only (not generations or counters), of the level and team asked for.
  private select(keys: string[], level: CacheLevel | '', teamId: string) {
    return keys
      .map((key) => ({ key, info: describeCacheKey(key) }))
      .filter((k): k is { key: string; info: NonNullable<ReturnType<typeof describeCacheKey>> } => !!k.info)
      .filter((k) => (!level || k.info.level === level) && (!teamId || k.info.teamId === teamId))
      .map((k) => ({ key: k.key, ...k.info }));
  }

  // An entry is stale when a generation it was stored under is no longer current.
  private async staleFlags(found: Array<{ level: CacheLevel; appId: string; path: string; generations: string[] }>): Promise<boolean[]> {
    const genKeys = found.map((f) =>
      f.level === 'global'
        ? []
        : [cacheKeys.appGeneration(f.appId), f.level === 'tenant' ? cacheKeys.treeGeneration(f.appId) : cacheKeys.fileGeneration(f.appId, f.path)],
    );
    const current = await this.keys.values(genKeys.flat());
    let at = 0;
    return genKeys.map((keys, i) => {
      const now = current.slice(at, (at += keys.length));
      return keys.length > 0 && now.some((g, j) => g !== found[i]?.generations[j]);
    });
  }
}

import { Rpc } from '@overskill/contracts';
import { CliError } from '../cli-context';
import { defineCommand } from '../command';
import { ProgressLine } from '../progress/progress-line';

// The levels of config/cache.yml (the orchestrator checks them too).
const CACHE_LEVELS = ['global', 'tenant', 'file'] as const;
const OPTIONS = { level: { type: 'string' }, team: { type: 'string' } } as const;

function levelOf(value: string | undefined): string {
  if (value !== undefined && !(CACHE_LEVELS as readonly string[]).includes(value))
    throw new CliError(`--level takes ${CACHE_LEVELS.join(', ')} (got "${value}")`);
  return value ?? '';
}

function percent(hits: number, misses: number): string {
  return hits + misses > 0 ? `${((100 * hits) / (hits + misses)).toFixed(1)}%` : '-';
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

interface Row {
  level: string;
  teamId: string;
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  staleEntries: number;
}

// The seed's `overskill:cache:stats`: entries, bytes and hit rate per level and per team.
export const cacheStats = defineCommand({
  words: ['cache', 'stats'],
  help: `  cache stats [--level global|tenant|file] Entries, bytes and hit rate of each cache level, per team
              [--team <id>] [--json]`,
  options: OPTIONS,
  async run(ctx, flags) {
    const level = levelOf(flags.level);
    const rows = new Map<string, Row>();
    const ttl: Record<string, number> = {};
    const progress = new ProgressLine('cache stats', 'keys', flags.json === true);
    let cursor = '';
    let scanned = 0;
    try {
      do {
        const page = await ctx.rpc.send(Rpc.cacheStats, { level, teamId: flags.team ?? '', cursor });
        for (const [l, s] of Object.entries(page.ttlSeconds)) ttl[l] = Number(s);
        for (const r of page.rows) {
          const id = `${r.level}|${r.teamId}`;
          const row = rows.get(id) ?? { level: r.level, teamId: r.teamId, entries: 0, bytes: 0, hits: 0, misses: 0, staleEntries: 0 };
          row.entries += Number(r.entries);
          row.bytes += Number(r.bytes);
          row.hits += Number(r.hits);
          row.misses += Number(r.misses);
          row.staleEntries += Number(r.staleEntries);
          rows.set(id, row);
        }
        scanned += Number(page.scanned);
        cursor = page.cursor;
        progress.update(scanned, Number(page.totalKeys));
      } while (cursor);
    } finally {
      progress.end();
    }
    const order = (r: Row) => `${CACHE_LEVELS.indexOf(r.level as never)}|${r.teamId}`;
    const teams = [...rows.values()].sort((a, b) => order(a).localeCompare(order(b)));
    const levels = CACHE_LEVELS.filter((l) => !level || l === level).map((l) => {
      const of = teams.filter((r) => r.level === l);
      const sum = (k: keyof Row) => of.reduce((a, r) => a + (r[k] as number), 0);
      const [hits, misses] = [sum('hits'), sum('misses')];
      return {
        level: l,
        ttlSeconds: ttl[l] ?? 0,
        entries: sum('entries'),
        bytes: sum('bytes'),
        staleEntries: sum('staleEntries'),
        hits,
        misses,
        hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
      };
    });
    if (flags.json) {
      const perTeam = teams.map((r) => ({ ...r, teamId: r.teamId || null, hitRate: r.hits + r.misses > 0 ? r.hits / (r.hits + r.misses) : null }));
      return JSON.stringify({ levels, teams: perTeam });
    }
    const lines = [
      `${'level'.padEnd(8)} ${'team'.padEnd(36)} ${'entries'.padStart(8)} ${'stale'.padStart(6)} ${'size'.padStart(10)} ${'hits'.padStart(8)} ${'misses'.padStart(8)} ${'hit rate'.padStart(8)}`,
    ];
    const line = (l: string, team: string, r: Omit<Row, 'level' | 'teamId'>) =>
      `${l.padEnd(8)} ${team.padEnd(36)} ${String(r.entries).padStart(8)} ${String(r.staleEntries).padStart(6)} ${kb(r.bytes).padStart(10)} ${String(r.hits).padStart(8)} ${String(r.misses).padStart(8)} ${percent(r.hits, r.misses).padStart(8)}`;
    for (const l of levels) {
      lines.push(line(l.level, `(all${l.ttlSeconds ? `, TTL ${l.ttlSeconds} s` : ''})`, l));
      for (const r of teams.filter((t) => t.level === l.level && t.teamId)) lines.push(line('', r.teamId, r));
    }
    if (teams.length === 0) lines.push(flags.team ? `no cache entries or lookups for team ${flags.team}` : 'the cache is empty');
    return lines.join('\n');
  },
});

// The seed's `overskill:cache:cleanup`: entries a write made unreachable (or, with --all, every
// entry of the level and team), page by page with SCAN.
export const cacheCleanup = defineCommand({
  words: ['cache', 'cleanup'],
  help: `  cache cleanup [--level <level>]         Remove entries a write made stale (--all: every entry) of a level
                [--team <id>] [--all] [--dry-run] [--json]   and team; --dry-run counts only`,
  options: { ...OPTIONS, all: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  async run(ctx, flags) {
    const level = levelOf(flags.level);
    const dryRun = flags['dry-run'] === true;
    const progress = new ProgressLine(dryRun ? 'cache cleanup (dry run)' : 'cache cleanup', 'keys', flags.json === true);
    const total = { scanned: 0, matched: 0, removed: 0, bytes: 0 };
    let cursor = '';
    try {
      do {
        const page = await ctx.rpc.send(Rpc.cacheCleanup, { level, teamId: flags.team ?? '', dryRun, all: flags.all === true, cursor });
        total.scanned += Number(page.scanned);
        total.matched += Number(page.matched);
        total.removed += Number(page.removed);
        total.bytes += Number(page.bytes);
        cursor = page.cursor;
        progress.update(total.scanned, Number(page.totalKeys));
      } while (cursor);
    } finally {
      progress.end();
    }
    const scope = `${level || 'every level'}${flags.team ? `, team ${flags.team}` : ''}`;
    if (flags.json) return JSON.stringify({ dryRun, all: flags.all === true, level: level || null, teamId: flags.team ?? null, ...total });
    const what = flags.all ? 'entries' : 'stale entries';
    if (dryRun) return `cache cleanup (dry run, ${scope}): ${total.matched} ${what} (${kb(total.bytes)}) would be removed; nothing was removed`;
    return `cache cleanup (${scope}): removed ${total.removed} ${what} (${kb(total.bytes)})`;
  },
});

import { readFileSync } from 'node:fs';
import type * as Yaml from 'yaml';
import { z } from 'zod';

export const CACHE_LEVELS = ['global', 'tenant', 'file'] as const;
export type CacheLevel = (typeof CACHE_LEVELS)[number];

// Every named entry and the level it lives at. The level is fixed here, not in the file: it decides
// whether a key carries the team id, so moving `file_contents` to `global` would share it across teams.
export const CACHE_ENTRIES = {
  ai_standards: 'global',
  app_schema: 'tenant',
  file_contents: 'file',
  file_metadata: 'file',
} as const satisfies Record<string, CacheLevel>;
export type CacheEntryName = keyof typeof CACHE_ENTRIES;

export interface CacheLevelConfig {
  ttlSeconds: number;
  // A value larger than this is not cached (it is still returned).
  maxEntryBytes: number;
}

export interface CacheConfig {
  source: string;
  levels: Record<CacheLevel, CacheLevelConfig>;
  operationTimeoutMs: number;
}

// The seed's values.
export const DEFAULT_CACHE_CONFIG: CacheConfig = {
  source: 'built-in defaults',
  levels: {
    global: { ttlSeconds: 3600, maxEntryBytes: 512 * 1024 },
    tenant: { ttlSeconds: 1800, maxEntryBytes: 512 * 1024 },
    file: { ttlSeconds: 600, maxEntryBytes: 256 * 1024 },
  },
  operationTimeoutMs: 250,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB)?\s*$/i;
const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2 };

const size = z.union([
  z.number().int().min(0),
  z.string().transform((value, ctx) => {
    const match = SIZE.exec(value);
    if (match) return Math.round(Number(match[1]) * (UNITS[(match[2] ?? 'B').toUpperCase()] ?? 1));
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not a size (e.g. 512KB)` });
    return z.NEVER;
  }),
]);

const level = z
  .object({
    ttl: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400),
    max_entry_size: size.optional(),
    keys: z.array(z.string()).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    cache_levels: z.object({ global: level.optional(), tenant: level.optional(), file: level.optional() }).strict(),
    operation_timeout_ms: z.number().int().min(1).max(5000).optional(),
    // The seed's `redis:` block (url, pool_size, timeout): the connection is REDIS_URL's, so it is accepted and ignored.
    redis: z.record(z.unknown()).optional(),
  })
  .strict();

export class CacheConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

export function parseCacheConfig(text: string, source: string): CacheConfig {
  let raw: unknown;
  try {
    // Loaded on use: only a deployment with a cache file reads YAML, and every service loads this.
    raw = (require('yaml') as typeof Yaml).parse(text);
  } catch (err) {
    throw new CacheConfigError(`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  // The seed nests everything under `production:`.
  if (raw && typeof raw === 'object' && 'production' in raw && !('cache_levels' in raw)) raw = (raw as { production: unknown }).production;
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new CacheConfigError(`${source}: ${problems.join('; ')}`);
  }
  const levels = { ...DEFAULT_CACHE_CONFIG.levels };
  const problems: string[] = [];
  for (const name of CACHE_LEVELS) {
    const given = parsed.data.cache_levels[name];
    if (!given) continue;
    levels[name] = { ttlSeconds: given.ttl, maxEntryBytes: given.max_entry_size ?? DEFAULT_CACHE_CONFIG.levels[name].maxEntryBytes };
    for (const key of given.keys ?? []) {
      const home = (CACHE_ENTRIES as Record<string, CacheLevel>)[key];
      if (!home) problems.push(`cache_levels.${name}.keys: unknown entry "${key}" (known: ${Object.keys(CACHE_ENTRIES).join(', ')})`);
      else if (home !== name) problems.push(`cache_levels.${name}.keys: "${key}" belongs to the ${home} level`);
    }
  }
  if (problems.length > 0) throw new CacheConfigError(`${source}: ${problems.join('; ')}`);
  return { source, levels, operationTimeoutMs: parsed.data.operation_timeout_ms ?? DEFAULT_CACHE_CONFIG.operationTimeoutMs };
}

// CACHE_CONFIG_FILE, or the seed's defaults when unset. Called at boot: an error stops the service.
export function loadCacheConfig(file: string | undefined): CacheConfig {
  if (!file) return DEFAULT_CACHE_CONFIG;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CacheConfigError(`CACHE_CONFIG_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseCacheConfig(text, file);
}

// The CACHE_CONFIG_FILE variable of a service's env schema, parsed into the config at boot: a bad
// file is a configuration error naming the variable, the file and every problem in it.
export function cacheConfigFileEnv() {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string()
      .optional()
      .transform((file, ctx) => {
        try {
          return loadCacheConfig(file);
        } catch (err) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
          return z.NEVER;
        }
      }),
  );
}

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AiRouterEnv } from '../config';
import { DEFAULT_PRICE_TABLE, type PriceTable } from '../accounting/price-table';

// The model config: the seed's ai_models.yml (`primary_model: "anthropic/claude-…"`, cache_settings,
// rate_limits) plus what the router needs beyond it (providers, attempts, breaker, budgets, prices).
// Secrets never live in the file: a provider names the env variable that holds its key.

export type ProviderType = 'anthropic' | 'openai';

export interface ProviderConfig {
  name: string;
  type: ProviderType;
  baseUrl?: string;
  apiKey?: string;
}

export interface AliasConfig {
  alias: string;
  provider: string;
  model: string;
}

export interface RateLimit {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface AiModelsConfig {
  source: string;
  loadedAt: Date;
  providers: Record<string, ProviderConfig>;
  aliases: Record<string, AliasConfig>;
  // Tried in this order after the alias asked for fails.
  fallbackOrder: string[];
  cache: { ttlSeconds: number; maxBytes: number };
  rateLimits: RateLimit & { teams: Record<string, RateLimit>; keys: Record<string, RateLimit>; maxQueueMs: number };
  // USD per UTC day; 0 = no cap. Overrides by team id / key id.
  budgets: { teamUsdPerDay: number; keyUsdPerDay: number; teams: Record<string, number>; keys: Record<string, number> };
  attempts: { perModel: number; total: number; timeoutMs: number };
  breaker: { failureThreshold: number; openMs: number };
  prices: PriceTable;
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i;
const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = SIZE.exec(value);
  if (!match) throw new Error(`"${value}" is not a size (e.g. 100MB)`);
  return Math.round(Number(match[1]) * UNITS[(match[2] ?? 'B').toUpperCase()]);
}

const modelRef = z.string().regex(/^[a-z0-9_-]+\/.+$/i, 'must be "<provider>/<model>", e.g. anthropic/claude-sonnet-4-6');
const rateLimit = z.object({ requests_per_minute: z.number().int().min(0), tokens_per_minute: z.number().int().min(0) });
const price = z.object({
  input: z.number().min(0),
  output: z.number().min(0),
  cache_read: z.number().min(0).optional(),
  cache_write: z.number().min(0).optional(),
});

const fileSchema = z
  .object({
    primary_model: modelRef.optional(),
    fallback_model: modelRef.optional(),
    image_model: modelRef.optional(),
    // More aliases beyond the seed's three: { fast: "openrouter/…" }.
    models: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), modelRef).optional(),
    fallback_order: z.array(z.string()).optional(),
    providers: z
      .record(
        z.string().regex(/^[a-z0-9_-]+$/),
        z
          .object({
            type: z.enum(['anthropic', 'openai']),
            base_url: z.string().url().optional(),
            api_key_env: z
              .string()
              .regex(/^[A-Z][A-Z0-9_]*$/)
              .optional(),
          })
          .strict(),
      )
      .optional(),
    cache_settings: z.object({ ttl: z.number().int().min(1).optional(), max_size: z.union([z.string(), z.number().int().min(0)]).optional() }).optional(),
    rate_limits: rateLimit
      .partial()
      .extend({ teams: z.record(rateLimit).optional(), keys: z.record(rateLimit).optional(), max_queue_ms: z.number().int().min(0).max(30_000).optional() })
      .optional(),
    budgets: z
      .object({
        team_usd_per_day: z.number().min(0).optional(),
        key_usd_per_day: z.number().min(0).optional(),
        teams: z.record(z.number().min(0)).optional(),
        keys: z.record(z.number().min(0)).optional(),
      })
      .optional(),
    retries: z
      .object({
        max_attempts_per_model: z.number().int().min(1).max(10).optional(),
        max_attempts_total: z.number().int().min(1).max(20).optional(),
        timeout_ms: z.number().int().min(100).optional(),
      })
      .optional(),
    circuit_breaker: z.object({ failure_threshold: z.number().int().min(1).optional(), open_seconds: z.number().min(0.1).optional() }).optional(),
    prices: z.object({ version: z.string().min(1), models: z.record(price), images: z.record(z.number().min(0)).optional() }).optional(),
  })
  .strict();

type FileConfig = z.infer<typeof fileSchema>;

function builtInProviders(env: AiRouterEnv): Record<string, ProviderConfig> {
  return {
    anthropic: { name: 'anthropic', type: 'anthropic', baseUrl: env.ANTHROPIC_BASE_URL, apiKey: env.ANTHROPIC_API_KEY },
    openai: { name: 'openai', type: 'openai', baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY },
    openrouter: { name: 'openrouter', type: 'openai', baseUrl: 'https://openrouter.ai/api/v1', apiKey: env.OPENROUTER_API_KEY },
    // Ollama and vLLM ignore the key, but the SDK wants one.
    ollama: { name: 'ollama', type: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', apiKey: 'ollama' },
  };
}

/** The config when no file is given: Anthropic aliases from the env, the seed's cache and rate limits. */
export function defaultAiModelsConfig(env: AiRouterEnv): AiModelsConfig {
  return buildConfig({}, env, 'env');
}

/** Parses the YAML (top level, or under `production:` like the seed). Throws with a line a human can act on. */
export function parseAiModelsConfig(text: string, env: AiRouterEnv, source: string, envName = process.env.NODE_ENV ?? 'production'): AiModelsConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const record = raw as Record<string, unknown>;
    const section = record[envName] ?? record['production'];
    if (section && typeof section === 'object' && !('primary_model' in record) && !('models' in record)) raw = section;
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return buildConfig(parsed.data, env, source);
}

function splitRef(ref: string): { provider: string; model: string } {
  const slash = ref.indexOf('/');
  return { provider: ref.slice(0, slash), model: ref.slice(slash + 1) };
}

function buildConfig(file: FileConfig, env: AiRouterEnv, source: string): AiModelsConfig {
  const providers = builtInProviders(env);
  for (const [name, p] of Object.entries(file.providers ?? {})) {
    const keyFromEnv = p.api_key_env ? process.env[p.api_key_env] : undefined;
    providers[name] = { name, type: p.type, baseUrl: p.base_url ?? providers[name]?.baseUrl, apiKey: keyFromEnv ?? providers[name]?.apiKey };
  }
  const refs: Record<string, string> = {
    primary: file.primary_model ?? `anthropic/${env.AI_PRIMARY_MODEL}`,
    fallback: file.fallback_model ?? `anthropic/${env.AI_FALLBACK_MODEL}`,
    image: file.image_model ?? `openai/${env.AI_IMAGE_MODEL}`,
    ...file.models,
  };
  const aliases: Record<string, AliasConfig> = {};
  for (const [alias, ref] of Object.entries(refs)) {
    const { provider, model } = splitRef(ref);
    if (!providers[provider]) throw new Error(`${source}: ${alias} uses provider "${provider}", which is not configured (add it under providers:)`);
    aliases[alias] = { alias, provider, model };
  }
  const fallbackOrder = file.fallback_order ?? ['fallback'];
  for (const alias of fallbackOrder) if (!aliases[alias]) throw new Error(`${source}: fallback_order names "${alias}", which is not a model alias`);
  const limits = file.rate_limits ?? {};
  const toLimit = (l: z.infer<typeof rateLimit>): RateLimit => ({ requestsPerMinute: l.requests_per_minute, tokensPerMinute: l.tokens_per_minute });
  return {
    source,
    loadedAt: new Date(),
    providers,
    aliases,
    fallbackOrder,
    cache: { ttlSeconds: file.cache_settings?.ttl ?? 300, maxBytes: parseByteSize(file.cache_settings?.max_size ?? '100MB') },
    rateLimits: {
      requestsPerMinute: limits.requests_per_minute ?? env.AI_RATE_LIMIT_REQUESTS_PER_MINUTE,
      tokensPerMinute: limits.tokens_per_minute ?? env.AI_RATE_LIMIT_TOKENS_PER_MINUTE,
      teams: Object.fromEntries(Object.entries(limits.teams ?? {}).map(([id, l]) => [id, toLimit(l)])),
      keys: Object.fromEntries(Object.entries(limits.keys ?? {}).map(([id, l]) => [id, toLimit(l)])),
      maxQueueMs: limits.max_queue_ms ?? 2000,
    },
    budgets: {
      teamUsdPerDay: file.budgets?.team_usd_per_day ?? 0,
      keyUsdPerDay: file.budgets?.key_usd_per_day ?? 0,
      teams: file.budgets?.teams ?? {},
      keys: file.budgets?.keys ?? {},
    },
    attempts: {
      perModel: file.retries?.max_attempts_per_model ?? env.AI_MAX_RETRIES + 1,
      total: file.retries?.max_attempts_total ?? env.AI_MAX_ATTEMPTS,
      timeoutMs: file.retries?.timeout_ms ?? env.AI_REQUEST_TIMEOUT_MS,
    },
    breaker: { failureThreshold: file.circuit_breaker?.failure_threshold ?? 5, openMs: Math.round((file.circuit_breaker?.open_seconds ?? 30) * 1000) },
    prices: file.prices
      ? {
          version: file.prices.version,
          models: Object.fromEntries(
            Object.entries(file.prices.models).map(([model, p]) => [
              model,
              { input: p.input, output: p.output, cacheRead: p.cache_read ?? p.input * 0.1, cacheWrite: p.cache_write ?? p.input * 1.25 },
            ]),
          ),
          images: file.prices.images ?? DEFAULT_PRICE_TABLE.images,
        }
      : DEFAULT_PRICE_TABLE,
  };
}

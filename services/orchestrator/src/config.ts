import { env } from '@overskill/observability';
import { cacheConfigFileEnv } from '@overskill/persistence';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

// USD per million tokens, by model id prefix (longest match wins). Used when ai-router does
// not price a call itself (cost_usd = 0), so run and team budgets still hold.
export const DEFAULT_MODEL_PRICES: Record<string, { input: number; output: number; cacheRead: number; cacheWrite: number }> = {
  'claude-opus': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  'claude-sonnet': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  // Anything else (OpenAI-compatible fallbacks, unknown ids): priced like the primary model.
  '': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
};

const priceTable = z.string().transform((raw, ctx) => {
  try {
    const parsed = z
      .record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0), cacheRead: z.number().min(0), cacheWrite: z.number().min(0) }))
      .parse(JSON.parse(raw));
    return { ...DEFAULT_MODEL_PRICES, ...parsed };
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'MODEL_PRICES_JSON must be {"<model prefix>": {"input": n, "output": n, "cacheRead": n, "cacheWrite": n}} in USD per million tokens',
    });
    return z.NEVER;
  }
});

// `<key id>:<32 bytes, base64>` comma-separated; the first encrypts, every one decrypts (rotation).
const secretKeys = z.string().transform((raw, ctx) => {
  const keys: Array<{ id: string; key: Buffer }> = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [id, encoded] = entry.split(':');
    const key = Buffer.from(encoded ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'PROJECT_SECRET_KEYS must be <key id>:<32 bytes in base64>[,<older key id>:<key>…]' });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  return keys;
});

const toolList = z.string().transform(
  (raw) =>
    new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
);

export const orchestratorEnvSchema = serviceEnvSchema(3001).extend({
  DATABASE_URL: env.databaseUrl(),
  // GitHub quota shared by the replicas, and the cache levels of context building.
  REDIS_URL: env.redisUrl(),
  // The seed's config/cache.yml; unset = its values built in.
  CACHE_CONFIG_FILE: cacheConfigFileEnv(),
  RUN_MAX_ITERATIONS: z.coerce.number().int().min(1).max(200).default(30),
  // Runs one replica works on at once (JetStream in-flight bound).
  RUN_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  MESSAGE_MAX_CHARS: z.coerce.number().int().min(1).default(100_000),
  // JetStream redelivers a run whose replica stopped heartbeating after this long.
  RUN_ACK_WAIT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  // A replica's claim on a run; renewed while it works, taken over once it lapses.
  RUN_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(20_000),
  // Dependency calls (ai-router, tool-runner, git-service) retried with exponential backoff.
  RUN_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  RUN_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  RUN_RETRY_MAX_MS: z.coerce.number().int().min(1).max(300_000).default(8000),
  // A run waits out the team's model rate limit (ai-router's retry time) up to this long in all.
  RUN_RATE_LIMIT_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(300_000),
  // A run waits out an infrastructure outage (bus or datastore down) up to this long per call.
  RUN_OUTAGE_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  RUN_MODEL_TIMEOUT_MS: z.coerce.number().int().min(1000).default(300_000),
  RUN_TOOL_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
  // git-service under many concurrent runs can take a while; a timed-out call is retried.
  RUN_GIT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  RUN_MAX_OUTPUT_TOKENS: z.coerce.number().int().min(1).max(128_000).default(8192),
  // Budgets: tokens (input + output) and USD per run; USD per team per UTC day.
  RUN_TOKEN_BUDGET: z.coerce.number().int().min(1).default(2_000_000),
  RUN_COST_BUDGET_USD: z.coerce.number().min(0).default(5),
  TEAM_DAILY_COST_BUDGET_USD: z.coerce.number().min(0).default(50),
  MODEL_PRICES_JSON: priceTable.default('{}'),
  // Loop detection: the same tool call with the same input in this many consecutive turns,
  // or this many consecutive turns that call tools but change nothing.
  RUN_LOOP_REPEAT_TURNS: z.coerce.number().int().min(2).max(50).default(3),
  RUN_LOOP_IDLE_TURNS: z.coerce.number().int().min(2).max(100).default(8),
  // Context: recent messages verbatim, older ones condensed to their first line.
  RUN_HISTORY_RECENT_MESSAGES: z.coerce.number().int().min(0).max(200).default(10),
  RUN_HISTORY_CONDENSED_MESSAGES: z.coerce.number().int().min(0).max(1000).default(40),
  RUN_CONTEXT_FILE_LIMIT: z.coerce.number().int().min(0).max(5000).default(300),
  // Tools without side effects: several in one turn run concurrently.
  // The headless preview check after every committed turn, and how many times per message its
  // errors go back to the model as a new turn (0: checked and reported, never fixed automatically).
  PREVIEW_CHECK: z.enum(['on', 'off']).default('on'),
  PREVIEW_CHECK_TIMEOUT_MS: z.coerce.number().int().min(1000).default(45_000),
  PREVIEW_AUTOFIX_TURNS: z.coerce.number().int().min(0).max(10).default(2),
  RUN_READ_ONLY_TOOLS: toolList.default(
    'read_file,search_files,read_console_logs,read_network_requests,read_analytics,git_status,git_diff,git_log,web_search,fetch_website',
  ),
  // GitHub projects: the REST API, and the keys that encrypt their credentials at rest.
  GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  PROJECT_SECRET_KEYS: secretKeys.default(''),
  // Every project's labelled open issues are listed this often (PoppoBuilder's 30 s), as the
  // fallback for webhooks that never arrived; 0 turns polling off.
  TASK_POLL_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  // Below this many GitHub requests left (the alert's threshold), polling and tasks under priority
  // 75 wait for the reset; urgent tasks go on.
  TASK_GITHUB_MIN_REMAINING: z.coerce.number().int().min(0).default(100),
  // Working tasks: at most this many running across all replicas, this many per replica, a lease
  // renewed while a replica works one (a crashed replica's task is resumed once it lapses), and
  // how often each replica looks for queued work. 0 = this replica works no tasks.
  TASK_MAX_RUNNING: z.coerce.number().int().min(1).max(10_000).default(20),
  TASK_WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(4),
  TASK_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  TASK_SCHEDULE_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  // Review comments arriving within this window of each other are worked by one run and one push.
  TASK_REVIEW_DEBOUNCE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  // How long someone's write permission, once asked of GitHub, is trusted for follow-ups.
  TASK_PERMISSION_CACHE_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  // Retention, checked this often (0 = off): deliveries are kept at least 7 days (GitHub's manual
  // redelivery reuses an id for days), and a task's workspace is removed this long after the
  // task ended (through git-service's cleanup of repositories whose app is gone).
  TASK_RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(3_600_000),
  TASK_DELIVERY_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(7, 'must be at least 7: GitHub redelivers with the same id for days, and the record is what makes it a duplicate')
    .max(3650)
    .default(7),
  TASK_WORKSPACE_GRACE_DAYS: z.coerce.number().min(0).max(3650).default(7),
  // Where repositories are cloned from and pushed to (GitHub Enterprise: https://<host>).
  GITHUB_GIT_URL: z.string().url().default('https://github.com'),
});
export type OrchestratorEnv = z.infer<typeof orchestratorEnvSchema>;
export const ORCHESTRATOR_ENV = Symbol('ORCHESTRATOR_ENV');

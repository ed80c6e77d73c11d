import { env } from '@overskill/observability';
import { cacheConfigFileEnv } from '@overskill/persistence';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';
import { TOOL_NAMES, type ToolName } from './catalog/tool-names';

// `FOO=` in a compose file means "not set".
const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const commaList = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const enabledTools = z.preprocess(
  blankAsUnset,
  z
    .string()
    .default(TOOL_NAMES.join(','))
    .transform(commaList)
    .superRefine((names, ctx) => {
      const unknown = names.filter((name) => !(TOOL_NAMES as readonly string[]).includes(name));
      if (unknown.length) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `unknown tool(s) ${unknown.join(', ')}; known: ${TOOL_NAMES.join(', ')}` });
    })
    .transform((names) => names as ToolName[]),
);

// The seed's max_image_size, written WIDTHxHEIGHT.
const imageSize = z.preprocess(
  blankAsUnset,
  z
    .string()
    .default('2048x2048')
    .refine((value) => /^[1-9]\d{0,4}x[1-9]\d{0,4}$/.test(value.trim()), { message: 'must be WIDTHxHEIGHT, e.g. 2048x2048' })
    .transform((value) => {
      const [width = 0, height = 0] = value.trim().split('x').map(Number);
      return { width, height };
    }),
);

// Host names, or IPv4/IPv6 addresses and CIDR ranges, that fetch tools may reach even though
// they are private (an operator's internal mirror). Public addresses need no entry.
const allowlist = z.preprocess(blankAsUnset, z.string().default('').transform(commaList));

const positiveInt = (fallback: number) => z.preprocess(blankAsUnset, z.coerce.number().int().positive().default(fallback));
const flag = (fallback: boolean) =>
  z.preprocess(
    blankAsUnset,
    z
      .enum(['1', '0', 'true', 'false', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => ['1', 'true', 'yes'].includes(value)),
  );

export const toolRunnerEnvSchema = serviceEnvSchema(3003)
  .extend({
    WORKSPACES_DIR: env.directory(),
    REDIS_URL: env.redisUrl(),
    // The seed's config/cache.yml (file contents read by the tools); unset = its values built in.
    CACHE_CONFIG_FILE: cacheConfigFileEnv(),
    // The seed's tools.yml enabled_tools: all of them unless narrowed.
    TOOLS_ENABLED: enabledTools,
    // The seed's tool_limits.
    TOOL_MAX_FILE_SIZE_BYTES: positiveInt(10 * 1024 * 1024),
    TOOL_MAX_SEARCH_RESULTS: positiveInt(100),
    TOOL_MAX_IMAGE_PIXELS: imageSize,
    // What a tool result may hand back to the model before it is truncated with a marker.
    TOOL_MAX_RESULT_CHARS: positiveInt(100_000),
    // How long a write waits for the app's lock before answering APP_BUSY.
    TOOL_LOCK_WAIT_MS: positiveInt(15_000),
    // search_files: ripgrep when installed (auto), or always the JavaScript engine.
    TOOL_SEARCH_ENGINE: z.preprocess(blankAsUnset, z.enum(['auto', 'ripgrep', 'javascript']).default('auto')),
    // A search pattern that runs longer than this (catastrophic backtracking) is refused.
    TOOL_SEARCH_TIMEOUT_MS: positiveInt(10_000),

    TOOL_FETCH_ALLOWLIST: allowlist,
    TOOL_FETCH_TIMEOUT_MS: positiveInt(15_000),
    TOOL_FETCH_MAX_BYTES: positiveInt(5 * 1024 * 1024),
    TOOL_FETCH_MAX_REDIRECTS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(20).default(5)),

    // web_search: `brave` (Brave Search API, needs the key) or `searxng` (a SearXNG instance's
    // JSON API at TOOL_WEB_SEARCH_URL). Unset: web_search answers TOOL_NOT_CONFIGURED.
    TOOL_WEB_SEARCH_PROVIDER: z.preprocess(blankAsUnset, z.enum(['brave', 'searxng']).optional()),
    TOOL_WEB_SEARCH_URL: env.optionalUrl(),
    TOOL_WEB_SEARCH_API_KEY: z.preprocess(blankAsUnset, z.string().optional()),

    // add_dependency looks the package up here; off: the edit is made without the check, and said so.
    TOOL_NPM_REGISTRY_URL: z.preprocess(
      blankAsUnset,
      z
        .string()
        .trim()
        .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), { message: 'must be an http:// or https:// URL' })
        .default('https://registry.npmjs.org'),
    ),
    TOOL_NPM_LOOKUP: flag(true),
    TOOL_NPM_LOOKUP_TIMEOUT_MS: positiveInt(3000),

    // Calls to git-service, analytics and ai-router.
    TOOL_DELEGATE_TIMEOUT_MS: positiveInt(30_000),
    TOOL_IMAGE_TIMEOUT_MS: positiveInt(120_000),

    // The app preview: its own HTTP listener, every app at <preview-id>.<host of PREVIEW_BASE_URL>.
    PREVIEW_PORT: env.port(3080),
    // What users open, an app at <preview-id>.<its host>; production: https://preview.example.com
    // behind a wildcard certificate. Unset: http://preview.localhost:<PREVIEW_PORT>.
    PREVIEW_BASE_URL: z.preprocess(
      blankAsUnset,
      z
        .string()
        .trim()
        .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) && new URL(value).pathname === '/', {
          message: 'must be an http(s) origin such as http://preview.localhost:3080',
        })
        .optional(),
    ),
    // Capture batches: bytes per batch, events per batch, events per preview per minute.
    PREVIEW_INGEST_MAX_BYTES: positiveInt(64 * 1024),
    PREVIEW_INGEST_MAX_EVENTS: positiveInt(100),
    PREVIEW_INGEST_RATE_PER_MINUTE: positiveInt(600),
    // The headless check after every committed turn.
    PREVIEW_CHROMIUM_PATH: z.preprocess(blankAsUnset, z.string().default('/usr/bin/chromium')),
    PREVIEW_CHECK_TIMEOUT_MS: positiveInt(15_000),
    // After load, how long the check waits for the network to go quiet.
    PREVIEW_CHECK_IDLE_MS: positiveInt(500),
    PREVIEW_SCREENSHOT_TTL_SECONDS: positiveInt(30 * 86_400),
    // Dev-server mode (an app whose package.json has a `dev` script): off serves every app as files.
    PREVIEW_DEV_SERVER: flag(true),
    // Ports leased to dev servers, FROM-TO on loopback; below Linux's ephemeral range (32768-60999),
    // where any outgoing connection may hold a port for a while.
    PREVIEW_DEV_PORTS: z.preprocess(
      blankAsUnset,
      z
        .string()
        .default('24000-24999')
        .refine((value) => /^\d{4,5}-\d{4,5}$/.test(value.trim()), { message: 'must be FROM-TO, e.g. 24000-24999' })
        .transform((value) => {
          const [from = 0, to = 0] = value.trim().split('-').map(Number);
          return { from, to };
        })
        .refine(({ from, to }) => from >= 1024 && from <= to && to <= 65535, { message: 'must be a range within 1024-65535, FROM not above TO' }),
    ),
    // Stopped after this long without views or agent activity; started again on the next view.
    PREVIEW_IDLE_STOP_MS: positiveInt(10 * 60_000),
    // From start to the port answering HTTP; past it the start failed.
    PREVIEW_DEV_READY_TIMEOUT_MS: positiveInt(60_000),
    // How long a page view waits for a starting dev server before answering a "starting" page.
    PREVIEW_DEV_VIEW_WAIT_MS: positiveInt(10_000),
    // Restarts after a crash (with a growing pause) before the preview stays crashed.
    PREVIEW_DEV_MAX_RESTARTS: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(20).default(3)),
    // Resident memory of the whole dev server (every process of it), and CPU seconds per process.
    PREVIEW_DEV_MEMORY_MB: positiveInt(1024),
    PREVIEW_DEV_CPU_SECONDS: positiveInt(3600),
    // Installed dependency sets (one node_modules per set, shared read-only by every app using it)
    // and npm's cache for building them. Unset: <tmp>/overskill-preview-deps.
    PREVIEW_DEPS_DIR: z.preprocess(blankAsUnset, z.string().optional()),
    PREVIEW_BWRAP_PATH: z.preprocess(blankAsUnset, z.string().default('/usr/bin/bwrap')),
    // Where other replicas reach this replica's preview listener to forward views of the dev
    // servers it runs (a pod address in production). Unset: http://127.0.0.1:<PREVIEW_PORT>.
    PREVIEW_INTERNAL_URL: z.preprocess(
      blankAsUnset,
      z
        .string()
        .trim()
        .refine((value) => URL.canParse(value) && new URL(value).protocol === 'http:', { message: 'must be an http:// URL such as http://10.0.0.5:3080' })
        .optional(),
    ),
  })
  .superRefine((value, ctx) => {
    if (value.TOOL_WEB_SEARCH_PROVIDER === 'searxng' && !value.TOOL_WEB_SEARCH_URL) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['TOOL_WEB_SEARCH_URL'], message: 'is required when TOOL_WEB_SEARCH_PROVIDER=searxng' });
    }
    if (value.TOOL_WEB_SEARCH_PROVIDER === 'brave' && !value.TOOL_WEB_SEARCH_API_KEY) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['TOOL_WEB_SEARCH_API_KEY'], message: 'is required when TOOL_WEB_SEARCH_PROVIDER=brave' });
    }
  });
export type ToolRunnerEnv = z.infer<typeof toolRunnerEnvSchema>;
export const TOOL_RUNNER_ENV = Symbol('TOOL_RUNNER_ENV');

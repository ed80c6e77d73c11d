import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { isIP } from 'node:net';
import { z } from 'zod';

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

// A comma-separated list; empty entries dropped.
const commaList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

// 10.0.0.5, 10.0.0.0/8, ::1 or fd00::/8.
function isAddressOrRange(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

export const gatewayEnvSchema = serviceEnvSchema(3000).extend({
  DATABASE_URL: env.databaseUrl(),
  REDIS_URL: env.redisUrl(),
  GATEWAY_BODY_LIMIT_BYTES: int(1024, 1024 * 1024),
  // Deeper JSON bodies are refused before any schema walks them.
  GATEWAY_JSON_MAX_DEPTH: int(2, 32),
  // A request not answered in this time gets 504 REQUEST_TIMEOUT (event streams excepted).
  GATEWAY_REQUEST_TIMEOUT_MS: int(100, 30_000),
  // The seed's Rack::Attack rule: 300 requests per IP per 5 minutes.
  GATEWAY_RATE_LIMIT_IP_MAX: int(1, 300),
  GATEWAY_RATE_LIMIT_IP_WINDOW_SECONDS: int(1, 300),
  GATEWAY_RATE_LIMIT_KEY_MAX: int(1, 600),
  GATEWAY_RATE_LIMIT_KEY_WINDOW_SECONDS: int(1, 60),
  // How long a rotated key keeps working unless the rotation asks for another grace period.
  GATEWAY_KEY_ROTATION_GRACE_SECONDS: int(0, 86_400),
  // Authenticated keys are cached this long per replica; revocation clears every replica's cache
  // at once through Redis, so this only bounds staleness when Redis pub/sub was down.
  GATEWAY_KEY_CACHE_TTL_MS: int(0, 10_000),
  // A replica answers a team's app list from its own copy for at most this long (0 = never), and
  // only while the team's list generation in Redis is the one the copy was read under.
  GATEWAY_APP_LIST_CACHE_TTL_MS: int(0, 2000),
  // Comma-separated allowed origins for browsers; empty = no CORS headers (same-origin only).
  GATEWAY_CORS_ORIGINS: commaList(),
  // The app previews' parent origin (tool-runner's PREVIEW_BASE_URL): requests whose Origin is
  // <anything>.<its host> are refused, since preview pages run the apps' own code.
  PREVIEW_BASE_URL: z
    .string()
    .trim()
    .default('http://preview.localhost')
    .refine((v) => URL.canParse(v), { message: 'must be a URL such as https://preview.example.com' })
    .transform((v) => new URL(v).hostname.toLowerCase()),
  // Comma-separated team slugs whose owners may change platform-wide settings (the model switch).
  // Empty = nobody through the API; operators still have `npx overskill ai switch-model`.
  GATEWAY_OPERATOR_TEAMS: commaList(),
  // GitHub webhook secrets, comma-separated: a delivery signed with any of them is accepted (rotation).
  GITHUB_WEBHOOK_SECRET: commaList(),
  // Model calls through /api/v1/messages may take minutes; they get their own time limit.
  GATEWAY_LLM_REQUEST_TIMEOUT_MS: int(1000, 600_000),
  // Proxies in front of the gateway (nginx, an ingress): the client address is taken that many
  // hops from the right of X-Forwarded-For, so a client cannot choose it by sending the header.
  GATEWAY_TRUST_PROXY_HOPS: int(0, 0),
  // Or the proxies' own addresses and ranges: the client is the first address of X-Forwarded-For,
  // from the right, that is not one of them, and a peer that is not one of them is the client
  // itself whatever it sends. Stricter than hops: a client that reaches the port directly is not
  // trusted. Set one or the other.
  GATEWAY_TRUSTED_PROXIES: commaList().refine((list) => list.every(isAddressOrRange), {
    message: 'must be IP addresses or CIDR ranges, comma-separated, e.g. 10.0.0.0/8,127.0.0.1',
  }),
  GATEWAY_KEEP_ALIVE_TIMEOUT_MS: int(1000, 72_000),
  // Graceful shutdown waits this long for in-flight requests before closing anyway.
  GATEWAY_SHUTDOWN_DRAIN_MS: int(0, 10_000),
  // A console session (POST /api/session) ends this long after sign-in; the key's own revocation
  // or expiry ends it sooner.
  GATEWAY_SESSION_TTL_SECONDS: int(10, 3600),
  // The built web console (index.html + assets/); empty = next to this build (dist/services/console).
  GATEWAY_CONSOLE_DIR: z.string().default(''),
  // How long /health/detailed waits for each service's ping.
  HEALTH_PING_TIMEOUT_MS: int(100, 1500),
});
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;
export const GATEWAY_ENV = Symbol('GATEWAY_ENV');

import { env } from '@overskill/observability';
import { cacheConfigFileEnv } from '@overskill/persistence';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

const hostList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine((hosts) => hosts.length > 0 && hosts.every((h) => /^[a-z0-9.-]+$/.test(h)), { message: 'must be a comma-separated list of host names' });

export const gitServiceEnvSchema = serviceEnvSchema(3004).extend({
  WORKSPACES_DIR: env.directory(),
  REDIS_URL: env.redisUrl(),
  // The seed's config/cache.yml: a restore or branch switch drops the app's cached files.
  CACHE_CONFIG_FILE: cacheConfigFileEnv(),
  // How long a write waits for the app's lock before APP_BUSY; below the callers' 10 s RPC timeout.
  GIT_LOCK_WAIT_MS: z.coerce.number().int().min(0).default(8000),
  // The lock's lease: a replica that dies mid-write frees the app after at most this.
  GIT_LOCK_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  // A git lock file (index.lock, …) this old, with no git process working in the repository,
  // was left by a crash and is removed by the next write.
  GIT_STALE_LOCK_MS: z.coerce.number().int().min(0).default(5000),
  // Orphaned repositories (no app row) untouched this long are removed by git.repo.cleanup.v1.
  GIT_ORPHAN_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(7 * 24 * 3600),
  // Remotes for clone and push: hosts allowed, and whether plain http is (loopback tests only).
  GIT_REMOTE_ALLOWED_HOSTS: hostList.default('github.com'),
  GIT_REMOTE_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  // Used for clone and push when a request carries no token of its own.
  GITHUB_TOKEN: z
    .string()
    .trim()
    .optional()
    .transform((v) => v || undefined),
  // Clone and push give up after this long without progress.
  GIT_REMOTE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
});
export type GitServiceEnv = z.infer<typeof gitServiceEnvSchema>;
export const GIT_SERVICE_ENV = Symbol('GIT_SERVICE_ENV');

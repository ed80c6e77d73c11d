import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';

function blankAsUnset<T extends z.ZodTypeAny>(schema: T): z.ZodEffects<T, z.output<T>, unknown> {
  return z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema);
}

const list = (defaults: string) =>
  blankAsUnset(
    z
      .string()
      .default(defaults)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
  );
const cron = (defaults: string) =>
  blankAsUnset(
    z
      .string()
      .trim()
      .default(defaults)
      .refine((v) => v === 'off' || v.split(/\s+/).length === 5, { message: 'must be a 5-field cron expression or "off"' }),
  );
// Unset or blank = not configured; otherwise resolved once against the working directory.
const optionalDirectory = () =>
  blankAsUnset(
    z
      .string()
      .refine((v) => !v.includes('\0'), { message: 'must be a path' })
      .transform((v) => resolve(v))
      .optional(),
  );
const int = (defaults: number) => blankAsUnset(z.coerce.number().int().min(0).default(defaults));

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export const backupEnvSchema = serviceEnvSchema(3006)
  .extend({
    DATABASE_URL: env.databaseUrl(),
    REDIS_URL: env.redisUrl(),
    WORKSPACES_DIR: env.directory(),
    BACKUP_DIR: env.directory(),
    // The second copy of every archive (another disk or volume); unset = one copy only.
    BACKUP_COPY_DIR: optionalDirectory(),
    // Where archive_command (deploy/scripts/wal-archive.sh) puts WAL segments; unset = BACKUP_DIR/wal.
    BACKUP_WAL_DIR: optionalDirectory(),
    // The second copy of the WAL archive (another disk; archive_command writes both); unset = one copy.
    BACKUP_WAL_COPY_DIR: optionalDirectory(),
    // PostgreSQL server tools (pg_ctl, pg_verifybackup) for replaying WAL; unset = /usr/lib/postgresql/<server major>/bin, else PATH.
    BACKUP_PG_BIN_DIR: optionalDirectory(),
    // age public keys: the online key and the offline recovery key (at least two for --encrypt).
    BACKUP_AGE_RECIPIENTS: list('').refine((keys) => keys.every((k) => /^age1[02-9ac-hj-np-z]{58}$/.test(k)), {
      message: 'must be a comma list of age public keys (age1…)',
    }),
    // The online private key, to verify, restore and drill; never inside BACKUP_DIR.
    BACKUP_AGE_IDENTITY_FILE: optionalDirectory(),
    // Files and folders a `config` backup takes (env files are split: secrets only go into encrypted archives).
    BACKUP_CONFIG_PATHS: list(''),
    BACKUP_RETENTION_DAYS: int(30),
    // A running backup renews its catalog row this often; one silent for 6 beats was interrupted.
    BACKUP_HEARTBEAT_MS: int(5000),
    // Grandfather-father-son on top of the age limit: "7,4,12" = daily, weekly, monthly backups kept.
    BACKUP_GFS: blankAsUnset(
      z
        .string()
        .regex(/^\d+,\d+,\d+$/, { message: 'must be "daily,weekly,monthly" counts, e.g. 7,4,12' })
        .optional(),
    ),
    // Cron expressions, read in UTC; "off" disables one.
    BACKUP_SCHEDULE_FULL: cron('0 2 * * *'),
    BACKUP_SCHEDULE_DATABASE: cron('0 */6 * * *'),
    BACKUP_SCHEDULE_DRILL: cron('0 4 * * 0'),
    // Base backups for point-in-time restore; needs WAL archiving on the server, so off unless set.
    BACKUP_SCHEDULE_BASE: cron('off'),
    // Scratch databases for restores and drills are created on the same server under this prefix.
    BACKUP_SCRATCH_DATABASE_PREFIX: blankAsUnset(
      z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,30}$/)
        .default('overskill_scratch'),
    ),
    // The security audit (docs/operations/security.md): its schedule, and what it looks at beyond this service's own settings.
    SECURITY_AUDIT_SCHEDULE: cron('0 * * * *'),
    // The project whose package-lock.json `npm audit` checks (unset = the working directory), and the registry it asks.
    SECURITY_AUDIT_NPM_DIR: optionalDirectory(),
    SECURITY_AUDIT_NPM_REGISTRY: blankAsUnset(z.string().url().optional()),
    SECURITY_AUDIT_NPM_TIMEOUT_MS: int(120_000),
    // Key files beyond the age identity and NATS seed/TLS key this service knows, data folders beyond its own.
    SECURITY_AUDIT_KEY_FILES: list(''),
    SECURITY_AUDIT_DATA_DIRS: list(''),
    // Log folders scanned for credentials (the services' log volume).
    SECURITY_AUDIT_LOG_DIRS: list(''),
    // Files whose security settings the drift check compares with the accepted baseline (unset = BACKUP_CONFIG_PATHS).
    SECURITY_AUDIT_SETTINGS_FILES: list(''),
    // Files larger than this are not scanned for credentials.
    SECURITY_AUDIT_MAX_FILE_BYTES: int(1024 * 1024),
    // An API key with no audited request for this many days (and older than that) is reported as unused.
    SECURITY_AUDIT_KEY_UNUSED_DAYS: int(90),
    // The platform commit recorded in manifests (CI sets it at build time).
    OVERSKILL_COMMIT: blankAsUnset(z.string().trim().default('unknown')),
  })
  .superRefine((e, ctx) => {
    const key = e.BACKUP_AGE_IDENTITY_FILE;
    for (const dir of [e.BACKUP_DIR, e.BACKUP_COPY_DIR, e.BACKUP_WAL_DIR, e.BACKUP_WAL_COPY_DIR]) {
      if (key && dir && inside(resolve(dir), key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['BACKUP_AGE_IDENTITY_FILE'],
          message: 'must not be inside a backup folder: a key beside the archives protects nothing',
        });
      }
    }
    if (e.BACKUP_COPY_DIR && inside(e.BACKUP_DIR, e.BACKUP_COPY_DIR)) {
      ctx.addIssue({ code: 'custom', path: ['BACKUP_COPY_DIR'], message: 'must be outside BACKUP_DIR (a second place)' });
    }
    const walDir = e.BACKUP_WAL_DIR ?? resolve(e.BACKUP_DIR, 'wal');
    if (e.BACKUP_WAL_COPY_DIR && (inside(walDir, e.BACKUP_WAL_COPY_DIR) || inside(e.BACKUP_WAL_COPY_DIR, walDir))) {
      ctx.addIssue({
        code: 'custom',
        path: ['BACKUP_WAL_COPY_DIR'],
        message: `must be apart from the WAL archive ${walDir}, neither inside it nor holding it (a second place)`,
      });
    }
  });
export type BackupEnv = ReturnType<typeof backupEnvSchema.parse>;

export const BACKUP_ENV = Symbol('BACKUP_ENV');

import { z } from 'zod';

const uuid = z.string().uuid({ message: 'must be a backup id (UUID) from GET /api/admin/backups' });

export const BackupParams = z.object({ backupId: uuid }).strict();
export const BackupListQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(30) }).strict();
export const CreateBackupBody = z
  .object({
    type: z.enum(['full', 'database', 'repos', 'config', 'redis', 'base']),
    // Encrypted to every configured age recipient (the online and the offline recovery key).
    encrypt: z.boolean().default(true),
  })
  .strict();
export const DrillBody = z.object({ backupId: uuid.optional() }).strict();
// Into scratch only: over live data is the CLI's `restore --to … --target live --force`, after stopping the writers.
export const PointInTimeRestoreBody = z
  .object({
    to: z.string().trim().min(1).max(64, { message: 'must be "latest" or an ISO time with its zone' }),
    // A base backup to start from; the newest one before `to` otherwise.
    backupId: uuid.optional(),
  })
  .strict();

export const Backup = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(['running', 'completed', 'failed']).or(z.string()),
    fileName: z.string().nullable(),
    sizeBytes: z.number(),
    sha256: z.string().nullable(),
    encrypted: z.boolean(),
    trigger: z.string(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    error: z.string().nullable(),
    verifiedAt: z.string().nullable(),
    verifyError: z.string().nullable(),
    drill: z.object({ result: z.string(), at: z.string(), rtoMs: z.number(), detail: z.string() }).strict().nullable(),
  })
  .strict();
export const BackupList = z.object({ backups: z.array(Backup) }).strict();
export const BackupWithManifest = Backup.extend({ manifest: z.record(z.unknown()).nullable() }).strict();
export const VerifyStarted = z.object({ backupId: z.string(), status: z.literal('verifying') }).strict();
export const PointInTimeRestored = z
  .object({
    baseBackupId: z.string(),
    recoveredTo: z.string(),
    scratchDatabase: z.string(),
    walSegments: z.number(),
    restored: z.array(z.string()),
    durationMs: z.number(),
  })
  .strict();
export const DrillStarted = z.object({ backupId: z.string(), status: z.literal('drilling') }).strict();

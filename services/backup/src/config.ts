import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';

export const backupEnvSchema = serviceEnvSchema(3006).extend({
  DATABASE_URL: env.databaseUrl(),
  REDIS_URL: env.redisUrl(),
  WORKSPACES_DIR: env.directory(),
  BACKUP_DIR: env.directory(),
});
export type BackupEnv = ReturnType<typeof backupEnvSchema.parse>;

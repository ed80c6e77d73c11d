import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';

export const analyticsEnvSchema = serviceEnvSchema(3005).extend({ DATABASE_URL: env.databaseUrl() });
export type AnalyticsEnv = ReturnType<typeof analyticsEnvSchema.parse>;

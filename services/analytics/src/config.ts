import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

export const analyticsEnvSchema = serviceEnvSchema(3005).extend({
  DATABASE_URL: env.databaseUrl(),
  // The infrastructure cost model; unset: config/cost-model.yml under the working directory, if any.
  ANALYTICS_COST_MODEL_FILE: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), z.string().min(1).optional()),
});
export type AnalyticsEnv = ReturnType<typeof analyticsEnvSchema.parse>;

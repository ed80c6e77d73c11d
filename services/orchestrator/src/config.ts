import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

export const orchestratorEnvSchema = serviceEnvSchema(3001).extend({
  DATABASE_URL: env.databaseUrl(),
  RUN_MAX_ITERATIONS: z.coerce.number().int().min(1).max(200).default(30),
  // Runs one replica works on at once (JetStream in-flight bound).
  RUN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  MESSAGE_MAX_CHARS: z.coerce.number().int().min(1).default(100_000),
});
export type OrchestratorEnv = z.infer<typeof orchestratorEnvSchema>;
export const ORCHESTRATOR_ENV = Symbol('ORCHESTRATOR_ENV');

import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

export const gatewayEnvSchema = serviceEnvSchema(3000).extend({
  DATABASE_URL: env.databaseUrl(),
  REDIS_URL: env.redisUrl(),
  GATEWAY_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  // How long /health/detailed waits for each service's ping.
  HEALTH_PING_TIMEOUT_MS: z.coerce.number().int().min(100).default(1500),
});
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;
export const GATEWAY_ENV = Symbol('GATEWAY_ENV');

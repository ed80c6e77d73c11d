import { z } from 'zod';
import { env } from './env-fields';

// What every service reads; each service `.extend()`s it with PORT and its own needs.
export const baseServiceEnv = z.object({
  HOST: env.host(),
  NATS_URL: env.natsUrl(),
  LOG_LEVEL: env.logLevel(),
  OTEL_EXPORTER_OTLP_ENDPOINT: env.optionalUrl(),
});

export type BaseServiceEnv = z.infer<typeof baseServiceEnv>;

import { env } from '@overskill/observability';
import { z } from 'zod';

// Variables every service reads; a service extends this with its own.
export function serviceEnvSchema(defaultPort: number) {
  return z.object({
    PORT: env.port(defaultPort),
    HOST: env.host(),
    NATS_URL: env.natsUrl(),
    LOG_LEVEL: env.logLevel(),
    OTEL_EXPORTER_OTLP_ENDPOINT: env.optionalUrl(),
  });
}

export type ServiceEnv = z.infer<ReturnType<typeof serviceEnvSchema>>;

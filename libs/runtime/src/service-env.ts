import { baseServiceEnv, env } from '@overskill/observability';
import type { z } from 'zod';

// The variables every service reads, plus PORT with the service's default; a service extends
// this with its own.
export function serviceEnvSchema(defaultPort: number) {
  return baseServiceEnv.extend({ PORT: env.port(defaultPort) });
}

export type ServiceEnv = z.infer<ReturnType<typeof serviceEnvSchema>>;

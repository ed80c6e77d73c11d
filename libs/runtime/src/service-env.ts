import { baseServiceEnv, env } from '@overskill/observability';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const optionalSetting = z.preprocess((value) => (value === '' ? undefined : value), z.string().optional());

// The variables every service reads, plus PORT with the service's default; a service extends
// this with its own.
export function serviceEnvSchema(defaultPort: number) {
  return baseServiceEnv.extend({
    PORT: env.port(defaultPort),
    // The service's NATS identity (docs/operations/deployment.md): a seed, or a file holding one,
    // and TLS material when nats-server requires TLS.
    NATS_NKEY_SEED: optionalSetting,
    NATS_NKEY_SEED_FILE: optionalSetting,
    NATS_TLS_CA_FILE: optionalSetting,
    NATS_TLS_CERT_FILE: optionalSetting,
    NATS_TLS_KEY_FILE: optionalSetting,
    // How long a SIGTERM drain may take before the process exits 1 (below Kubernetes' default
    // 30 s termination grace, so the exit is ours and logged, not a SIGKILL).
    SHUTDOWN_DEADLINE_MS: z.preprocess((value) => (value === '' ? undefined : value), z.coerce.number().int().positive().default(25_000)),
    // Where `kill -USR2 <pid>` writes a heap snapshot (the log volume in compose and k8s).
    DIAGNOSTICS_DIR: z.preprocess((value) => (value === '' ? undefined : value), z.string().default(join(tmpdir(), 'overskill-diagnostics'))),
  });
}

export type ServiceEnv = z.infer<ReturnType<typeof serviceEnvSchema>>;

import { NatsRpcClient, connectNats, natsCredentialsFromEnv } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import type { NatsConnection } from 'nats';

export interface CliContext {
  rpc: NatsRpcClient;
  close(): Promise<void>;
}

// The CLI speaks to the platform the way services do: NATS request-reply, typed by the registry.
export async function openCliContext(natsUrl: string): Promise<CliContext> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(natsUrl, 'overskill-cli', natsCredentialsFromEnv('cli', process.env));
  } catch {
    throw new CliError(`cannot reach NATS at ${natsUrl}; is the platform running? (set NATS_URL to point elsewhere)`);
  }
  return { rpc: new NatsRpcClient(nc, createServiceMetrics('cli'), 5000), close: () => nc.drain() };
}

export class CliError extends Error {}

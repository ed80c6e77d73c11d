import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import type { EventDefinition } from '@overskill/contracts';
import { NatsRpcClient, connectNats, natsCredentialsFromEnv, publishDurable, type NatsCredentials } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { RequestStrategy, type NatsConnection } from 'nats';

export interface CliContext {
  rpc: NatsRpcClient;
  // Core NATS messages on `subject` until the returned function is called (progress of long steps).
  subscribe(subject: string, onMessage: (data: Uint8Array) => void): () => void;
  // A fact on its JetStream stream, stored once per msgId (`analytics test` publishes a probe).
  publishFact<Msg extends DescMessage>(def: EventDefinition<Msg>, value: MessageInitShape<Msg>, msgId: string): Promise<void>;
  // One core-NATS request answered by every subscriber (each replica of a service): the answers
  // that arrive within waitMs.
  gather(subject: string, data: Uint8Array, waitMs: number): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

// The CLI speaks to the platform the way services do: NATS request-reply, typed by the registry.
export async function openCliContext(natsUrl: string): Promise<CliContext> {
  let nc: NatsConnection;
  let credentials: NatsCredentials;
  try {
    credentials = natsCredentialsFromEnv('cli', process.env);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    nc = await connectNats(natsUrl, 'overskill-cli', credentials);
  } catch (err) {
    if ((err as { code?: string }).code === 'AUTHORIZATION_VIOLATION') {
      throw new CliError(`NATS at ${natsUrl} refused the CLI's identity: set NATS_NKEY_SEED_FILE to the cli seed (npm start writes .data/cli.nkey)`);
    }
    throw new CliError(`cannot reach NATS at ${natsUrl}; is the platform running? (set NATS_URL to point elsewhere)`, 1);
  }
  return {
    rpc: new NatsRpcClient(nc, createServiceMetrics('cli'), 5000),
    subscribe: (subject, onMessage) => {
      const sub = nc.subscribe(subject, { callback: (err, msg) => void (err ? undefined : onMessage(msg.data)) });
      return () => sub.unsubscribe();
    },
    publishFact: (def, value, msgId) => publishDurable(nc, def, value, { msgId }),
    gather: async (subject, data, waitMs) => {
      const answers: Uint8Array[] = [];
      try {
        for await (const msg of await nc.requestMany(subject, data, { strategy: RequestStrategy.Timer, maxWait: waitMs })) answers.push(msg.data);
      } catch (err) {
        // No subscriber at all is an empty answer, not a failure of the others.
        if ((err as { code?: string }).code !== '503') throw err;
      }
      return answers;
    },
    close: () => nc.drain(),
  };
}

// A failure the CLI explains itself: exit 2 for bad arguments or configuration, 1 when the platform cannot be reached.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

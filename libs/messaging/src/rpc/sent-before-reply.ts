import type { NatsConnection } from 'nats';

// A handler's reply leaves on the RPC server's own connection. What the handler published on the
// service's connection (NATS_CONNECTION) may still be queued there, and the reply would overtake
// it. Runs `work`, then waits until nats-server has everything `nc` sent: a subscriber on one
// server then receives those messages before the reply.
export async function sentBeforeReply<T>(nc: NatsConnection, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await nc.flush().catch(() => undefined);
  }
}

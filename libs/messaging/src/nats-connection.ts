import { connect, type NatsConnection } from 'nats';

// Reconnect forever: a NATS restart must not take a service down with it. No async stack
// traces: nats.js would build two Error objects per request for them; our errors carry codes.
export const NATS_CONNECTION_OPTIONS = { maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000, noAsyncTraces: true } as const;

export function connectNats(natsUrl: string, name: string): Promise<NatsConnection> {
  return connect({ servers: natsUrl, name, ...NATS_CONNECTION_OPTIONS });
}

import { connect, type NatsConnection } from 'nats';

// Reconnect forever: a NATS restart must not take a service down with it.
export function connectNats(natsUrl: string, name: string): Promise<NatsConnection> {
  return connect({ servers: natsUrl, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000 });
}

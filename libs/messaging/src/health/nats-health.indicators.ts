import type { HealthIndicator } from '@overskill/observability';
import type { NatsConnection } from 'nats';

export function natsHealthIndicator(nc: NatsConnection): HealthIndicator {
  return {
    name: 'nats',
    async check() {
      if (nc.isClosed()) throw new Error('connection closed');
      await nc.flush();
      return { server: nc.getServer() };
    },
  };
}

export function jetStreamHealthIndicator(nc: NatsConnection): HealthIndicator {
  return {
    name: 'jetstream',
    async check() {
      const jsm = await nc.jetstreamManager({ timeout: 1500 });
      const info = await jsm.getAccountInfo();
      return { streams: info.streams, consumers: info.consumers };
    },
  };
}

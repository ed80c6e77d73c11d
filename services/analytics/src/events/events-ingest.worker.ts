import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { factEvents, Streams } from '@overskill/contracts';
import { NATS_CONNECTION, startMultiEventConsumer, type RunningConsumer } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { EventsIngestService } from './events-ingest.service';

// Every analytics replica joins one durable consumer of the EVENTS stream.
@Injectable()
export class EventsIngestWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: RunningConsumer;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly ingest: EventsIngestService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startMultiEventConsumer({
      nc: this.nc,
      stream: Streams.EVENTS.name,
      filterSubject: 'events.>',
      definitions: factEvents(),
      durable: 'analytics-events',
      maxInFlight: 32,
      ackWaitMs: 30_000,
      logger: this.logger,
      handle: async (def, message, raw) => {
        await this.ingest.ingest(def, message, raw);
      },
    });
  }

  // Before connections close: running handlers still reach NATS and Postgres while they finish.
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}

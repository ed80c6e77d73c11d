import { Inject, Injectable } from '@nestjs/common';
import { Streams } from '@overskill/contracts';
import { NATS_CONNECTION } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

export const EVENTS_DURABLE = 'analytics-events';

// The backlog of analytics' durable consumer of the EVENTS stream.
@Injectable()
export class EventsConsumerRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async backlog(): Promise<{ pending: number; ackPending: number }> {
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.consumers.info(Streams.EVENTS.name, EVENTS_DURABLE);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

// JetStream I/O of tasks.
@Injectable()
export class TaskQueueRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  // msg-id = the delivery id: concurrent duplicates of one delivery are one message.
  publishDelivery(deliveryId: string): Promise<void> {
    return publishDurable(this.nc, Events.githubDeliveryReceived, { deliveryId }, { msgId: deliveryId });
  }
}

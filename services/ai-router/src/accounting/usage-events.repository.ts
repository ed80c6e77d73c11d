import { Inject, Injectable } from '@nestjs/common';
import { aiV1, Events } from '@overskill/contracts';
import { NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { NatsConnection } from 'nats';

// Publishes events.aiusage.recorded.v1 on the EVENTS stream (msg-id = event id: a retried publish is one event).
@Injectable()
export class UsageEventsRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  publish(event: MessageInitShape<typeof aiV1.UsageRecordedSchema> & { eventId: string }): Promise<void> {
    return publishDurable(this.nc, Events.aiUsageRecorded, event, { msgId: event.eventId, tenantId: event.teamId || undefined });
  }
}

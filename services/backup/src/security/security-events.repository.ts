import { Inject, Injectable } from '@nestjs/common';
import { backupV1, Events } from '@overskill/contracts';
import { NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { NatsConnection } from 'nats';

// Each audit's findings as one fact on the EVENTS stream (analytics stores it, msg-id = audit id).
@Injectable()
export class SecurityEventsRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async publish(event: MessageInitShape<typeof backupV1.SecurityAuditedSchema> & { auditId: string }): Promise<void> {
    await publishDurable(this.nc, Events.securityAudited, event, { msgId: event.auditId });
  }
}

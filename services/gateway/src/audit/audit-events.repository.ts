import { Inject, Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { NatsConnection } from 'nats';
import type { AuditRow } from './audit.repository';

// An audit row as a fact on the EVENTS stream for analytics (msg-id = the row's id: a retried
// publish is stored once).
@Injectable()
export class AuditEventsRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  publish(row: AuditRow): Promise<void> {
    return publishDurable(
      this.nc,
      Events.auditRecorded,
      {
        eventId: row.id,
        occurredAt: row.occurredAt.toISOString(),
        teamId: row.teamId ?? '',
        actor: row.actor,
        keyPrefix: row.keyPrefix,
        action: row.action,
        target: row.target,
        ip: row.ip,
        result: row.result,
        status: row.status,
        correlationId: row.correlationId,
      },
      { msgId: row.id, tenantId: row.teamId ?? undefined },
    );
  }
}

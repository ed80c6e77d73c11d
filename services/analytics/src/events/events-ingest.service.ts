import { Injectable } from '@nestjs/common';
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { isEntityId, type EventDefinition } from '@overskill/contracts';
import type { JsMsg } from 'nats';
import { createHash } from 'node:crypto';
import { contributionsOf } from '../aggregates/fact-contributions';
import type { EventEntity } from '../persistence/entities';
import { EventsRepository } from './events.repository';

// Turns any fact from the EVENTS stream into one events row: its type is the subject, its
// id the publisher's msg-id, its attributes the message as proto3 JSON; its share of the daily
// aggregates is added with it.
@Injectable()
export class EventsIngestService {
  constructor(private readonly events: EventsRepository) {}

  async ingest(def: EventDefinition, message: MessageShape<DescMessage>, raw: JsMsg): Promise<boolean> {
    const attributes = toJson(def.message, message, { alwaysEmitImplicit: true }) as Record<string, unknown>;
    const field = (name: string) => (isEntityId(attributes[name]) ? (attributes[name] as string) : null);
    const occurred = typeof attributes.occurredAt === 'string' ? new Date(attributes.occurredAt) : undefined;
    const event: EventEntity = {
      eventId: eventIdOf(raw),
      type: def.subject,
      occurredAt: occurred && !Number.isNaN(occurred.getTime()) ? occurred : new Date(raw.info.timestampNanos / 1_000_000),
      teamId: field('teamId') ?? tenantOf(raw),
      appId: field('appId'),
      runId: field('runId'),
      attributes,
    };
    return this.events.insertOnce(event, contributionsOf(event));
  }
}

// The msg-id the publisher chose (JetStream dedups on it), as a uuid for the events table.
function eventIdOf(raw: JsMsg): string {
  const msgId = raw.headers?.get('Nats-Msg-Id') ?? '';
  if (isEntityId(msgId)) return msgId;
  // Non-uuid msg-ids (e.g. run-finished-<runId>) map to a stable uuid-shaped hash.
  const hex = createHash('sha256')
    .update(msgId || `${raw.info.stream}:${raw.seq}`)
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function tenantOf(raw: JsMsg): string | null {
  const tenant = raw.headers?.get('x-tenant-id') ?? '';
  return isEntityId(tenant) ? tenant : null;
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEntity } from '../persistence/entities';

@Injectable()
export class EventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Idempotent by event id: a redelivered fact is stored once. Returns whether it was new.
  async insertOnce(event: EventEntity): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO "analytics"."events" (event_id, type, occurred_at, team_id, app_id, run_id, attributes)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
      [event.eventId, event.type, event.occurredAt, event.teamId, event.appId, event.runId, JSON.stringify(event.attributes)],
    );
    return rows.length > 0;
  }

  count(type: string, teamId?: string): Promise<number> {
    return this.dataSource.getRepository(EventEntity).countBy(teamId ? { type, teamId } : { type });
  }
}

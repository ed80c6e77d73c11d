import { Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { SECRET_MARKERS } from '@overskill/observability';
import { DataSource } from 'typeorm';
import { DAY_LOCK, dayNumber } from '../aggregates/aggregates.repository';
import { mergeContributions, utcDay, type Contribution } from '../aggregates/fact-contributions';
import { EventEntity } from '../persistence/entities';

@Injectable()
export class EventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Idempotent by event id: a redelivered fact is stored once, and its contributions to the daily
  // aggregates are added by the same statement only when the row is new, so they count once too.
  // One statement, one round trip: the day lock (shared; a rebuild takes it exclusive) comes first
  // because the insert reads from it. Returns whether the fact was new.
  async insertOnce(event: EventEntity, contributions: Contribution[] = []): Promise<boolean> {
    const values = [event.eventId, event.type, event.occurredAt, event.teamId, event.appId, event.runId, JSON.stringify(event.attributes)];
    if (contributions.length === 0) {
      const rows: unknown[] = await this.dataSource.query(
        `INSERT INTO "analytics"."events" (event_id, type, occurred_at, team_id, app_id, run_id, attributes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        values,
      );
      return rows.length > 0;
    }
    const c = mergeContributions(contributions);
    const rows: unknown[] = await this.dataSource.query(
      `WITH day_lock AS (SELECT pg_advisory_xact_lock_shared($8, $9)),
            stored AS (INSERT INTO "analytics"."events" (event_id, type, occurred_at, team_id, app_id, run_id, attributes)
                       SELECT $1, $2, $3, $4, $5, $6, $7 FROM day_lock ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
       INSERT INTO "analytics"."daily_aggregates" (day, team_id, app_id, metric, dim, value)
       SELECT c.* FROM unnest($10::date[], $11::uuid[], $12::varchar[], $13::varchar[], $14::varchar[], $15::float8[]) AS c, stored
       ON CONFLICT (day, team_id, metric, app_id, dim) DO UPDATE SET value = "analytics"."daily_aggregates".value + EXCLUDED.value
       RETURNING 1`,
      [
        ...values,
        DAY_LOCK,
        dayNumber(utcDay(event.occurredAt)),
        c.map((x) => x.day),
        c.map((x) => x.teamId),
        c.map((x) => x.appId),
        c.map((x) => x.metric),
        c.map((x) => x.dim),
        c.map((x) => x.value),
      ],
    );
    return rows.length > 0;
  }

  // Tool executions by tool and outcome; durations from the facts' durationMs.
  async toolStats(teamId: string, since: Date): Promise<Array<{ tool: string; outcome: string; count: number; avgMs: number; p95Ms: number }>> {
    const rows: Array<{ tool: string; outcome: string; n: string; avg_ms: number | null; p95_ms: number | null }> = await this.dataSource.query(
      `SELECT attributes->>'tool' AS tool, attributes->>'outcome' AS outcome, count(*) AS n,
              avg((attributes->>'durationMs')::float8) AS avg_ms,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY (attributes->>'durationMs')::float8) AS p95_ms
       FROM "analytics"."events" WHERE type = $1 AND team_id = $2 AND occurred_at >= $3
       GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 500`,
      [Events.toolExecuted.subject, teamId, since],
    );
    return rows.map((r) => ({ tool: r.tool ?? '', outcome: r.outcome ?? '', count: Number(r.n), avgMs: Number(r.avg_ms ?? 0), p95Ms: Number(r.p95_ms ?? 0) }));
  }

  // Facts whose JSON holds a credential marker (the exact patterns are applied by the caller).
  async withSecretMarkers(limit: number): Promise<{ rows: { event_id: string; type: string; occurred_at: Date; text: string }[]; scanned: number }> {
    const [rows, total] = await Promise.all([
      this.dataSource.query(
        `SELECT event_id, type, occurred_at, attributes::text AS text FROM "analytics"."events" WHERE attributes::text ~ $1 ORDER BY occurred_at DESC LIMIT $2`,
        [SECRET_MARKERS.source, limit],
      ) as Promise<{ event_id: string; type: string; occurred_at: Date; text: string }[]>,
      this.dataSource.query(`SELECT count(*)::bigint AS n FROM "analytics"."events"`) as Promise<{ n: string }[]>,
    ]);
    return { rows, scanned: Number(total[0]?.n ?? 0) };
  }

  count(type: string, teamId?: string): Promise<number> {
    return this.dataSource.getRepository(EventEntity).countBy(teamId ? { type, teamId } : { type });
  }
}

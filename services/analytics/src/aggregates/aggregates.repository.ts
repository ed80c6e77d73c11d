import { Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { contributionsOf, mergeContributions, Metric, type Contribution } from './fact-contributions';

const AGGREGATES = '"analytics"."daily_aggregates"';
const EVENTS = '"analytics"."events"';
// Advisory lock namespace of a day's aggregates: the ingest holds it shared, a rebuild exclusive,
// so a fact stored while its day is rebuilt is counted by exactly one of them.
export const DAY_LOCK = 0x616e;
const DAY_MS = 86_400_000;
const REBUILD_BATCH = 2000;
const UPSERT_CHUNK = 1000;

export interface AggregateRow {
  day: string;
  teamId: string;
  appId: string;
  metric: string;
  dim: string;
  value: number;
}

export function dayNumber(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00.000Z`) / DAY_MS);
}

// Adds contributions to their rows (inside the rebuild's transaction).
export async function addContributions(m: EntityManager, rows: Contribution[]): Promise<void> {
  const merged = mergeContributions(rows);
  for (let i = 0; i < merged.length; i += UPSERT_CHUNK) {
    const chunk = merged.slice(i, i + UPSERT_CHUNK);
    await m.query(
      `INSERT INTO ${AGGREGATES} (day, team_id, app_id, metric, dim, value)
       SELECT * FROM unnest($1::date[], $2::uuid[], $3::varchar[], $4::varchar[], $5::varchar[], $6::float8[])
       ON CONFLICT (day, team_id, metric, app_id, dim) DO UPDATE SET value = ${AGGREGATES}.value + EXCLUDED.value`,
      [
        chunk.map((c) => c.day),
        chunk.map((c) => c.teamId),
        chunk.map((c) => c.appId),
        chunk.map((c) => c.metric),
        chunk.map((c) => c.dim),
        chunk.map((c) => c.value),
      ],
    );
  }
}

@Injectable()
export class AggregatesRepository {
  constructor(private readonly dataSource: DataSource) {}

  // One day derived again from its stored facts, in one transaction: the old rows of the day
  // (of the team, or of every team) go, the recount goes in.
  async rebuildDay(day: string, teamId: string | null): Promise<{ events: number; rows: number }> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1, $2)', [DAY_LOCK, dayNumber(day)]);
      await m.query(`DELETE FROM ${AGGREGATES} WHERE day = $1 AND ($2::uuid IS NULL OR team_id = $2)`, [day, teamId]);
      const from = new Date(`${day}T00:00:00.000Z`);
      const until = new Date(from.getTime() + DAY_MS);
      const all: Contribution[] = [];
      let events = 0;
      let after: { at: Date; id: string } | null = null;
      for (;;) {
        const batch: Array<{ event_id: string; type: string; occurred_at: Date; team_id: string; app_id: string | null; attributes: Record<string, unknown> }> =
          await m.query(
            `SELECT event_id, type, occurred_at, team_id, app_id, attributes FROM ${EVENTS}
            WHERE occurred_at >= $1 AND occurred_at < $2 AND team_id IS NOT NULL AND ($3::uuid IS NULL OR team_id = $3)
              AND ($4::timestamptz IS NULL OR (occurred_at, event_id) > ($4, $5::uuid))
            ORDER BY occurred_at, event_id LIMIT $6`,
            [from, until, teamId, after?.at ?? null, after?.id ?? null, REBUILD_BATCH],
          );
        for (const e of batch)
          all.push(...contributionsOf({ type: e.type, occurredAt: e.occurred_at, teamId: e.team_id, appId: e.app_id, attributes: e.attributes }));
        events += batch.length;
        if (batch.length < REBUILD_BATCH) break;
        const last = batch[batch.length - 1];
        after = { at: last.occurred_at, id: last.event_id };
      }
      const merged = mergeContributions(all);
      await addContributions(m, merged);
      return { events, rows: merged.length };
    });
  }

  // The rows of [from, to] (UTC days) of one team, or of every team; probes left out.
  async rows(teamId: string | null, from: string, to: string): Promise<AggregateRow[]> {
    const rows: Array<{ day: string; team_id: string; app_id: string; metric: string; dim: string; value: number }> = await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, team_id, app_id, metric, dim, value FROM ${AGGREGATES}
        WHERE day >= $1 AND day <= $2 AND ($3::uuid IS NULL OR team_id = $3) AND metric <> $4
        ORDER BY day, team_id, app_id, metric, dim`,
      [from, to, teamId, Metric.probes],
    );
    return rows.map((r) => ({ day: r.day, teamId: r.team_id, appId: r.app_id, metric: r.metric, dim: r.dim, value: Number(r.value) }));
  }

  // Every team's activity per day and metric: the denominator of the infrastructure share.
  async platformActivity(from: string, to: string, metrics: string[]): Promise<Array<{ day: string; metric: string; value: number }>> {
    const rows: Array<{ day: string; metric: string; value: number }> = await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, metric, sum(value) AS value FROM ${AGGREGATES}
        WHERE day >= $1 AND day <= $2 AND metric = ANY($3) GROUP BY 1, 2`,
      [from, to, metrics],
    );
    return rows.map((r) => ({ day: r.day, metric: r.metric, value: Number(r.value) }));
  }

  // Whether a probe fact is stored, and its day's probe count for its (single-use) team.
  async probe(eventId: string, teamId: string): Promise<{ stored: boolean; aggregated: number }> {
    const [row]: Array<{ stored: boolean; aggregated: number | null }> = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM ${EVENTS} WHERE event_id = $1 AND type = $2) AS stored,
              (SELECT sum(value) FROM ${AGGREGATES} WHERE team_id = $3 AND metric = $4) AS aggregated`,
      [eventId, Events.analyticsProbe.subject, teamId, Metric.probes],
    );
    return { stored: Boolean(row?.stored), aggregated: Number(row?.aggregated ?? 0) };
  }
}

import { Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { DataSource } from 'typeorm';

const EVENTS = '"analytics"."events"';

export interface LatencyRow {
  kind: 'ai_model' | 'tool' | 'route';
  name: string;
  count: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  avgMs: number;
}

export interface ThroughputRow {
  day: string;
  runs: number;
  runsFailed: number;
  aiRequests: number;
  toolCalls: number;
  apiWrites: number;
}

// Latency, throughput and errors of [from, until) from the raw facts: model calls (latencyMs),
// tool calls (durationMs), runs, and the gateway's audited (mutating) requests, which carry no
// duration.
@Injectable()
export class PerformanceRepository {
  constructor(private readonly dataSource: DataSource) {}

  async latencies(teamId: string | null, from: Date, until: Date): Promise<LatencyRow[]> {
    const rows: Array<{
      kind: LatencyRow['kind'];
      name: string | null;
      n: string;
      errors: string;
      p50: number | null;
      p95: number | null;
      p99: number | null;
      avg: number | null;
    }> = await this.dataSource.query(
      `WITH facts AS (
           SELECT CASE type WHEN $4 THEN 'ai_model' WHEN $5 THEN 'tool' ELSE 'route' END AS kind,
                  CASE type WHEN $4 THEN coalesce(nullif(attributes->>'modelAlias', ''), attributes->>'requestedAlias')
                            WHEN $5 THEN attributes->>'tool' ELSE attributes->>'action' END AS name,
                  CASE type WHEN $4 THEN attributes->>'outcome' <> 'ok' WHEN $5 THEN attributes->>'outcome' <> 'ok'
                            ELSE coalesce((attributes->>'status')::int, 0) >= 400 END AS failed,
                  CASE type WHEN $4 THEN (attributes->>'latencyMs')::float8 WHEN $5 THEN (attributes->>'durationMs')::float8 END AS ms
             FROM ${EVENTS}
            WHERE occurred_at >= $2 AND occurred_at < $3 AND ($1::uuid IS NULL OR team_id = $1)
              AND (type IN ($4, $5) OR (type = $6 AND attributes->>'action' <> 'auth.failed')))
         SELECT kind, name, count(*) AS n, count(*) FILTER (WHERE failed) AS errors,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
                avg(ms) AS avg
           FROM facts GROUP BY 1, 2 ORDER BY 1, count(*) DESC, 2 LIMIT 1000`,
      [teamId, from, until, Events.aiUsageRecorded.subject, Events.toolExecuted.subject, Events.auditRecorded.subject],
    );
    return rows.map((r) => ({
      kind: r.kind,
      name: r.name ?? '',
      count: Number(r.n),
      errors: Number(r.errors),
      p50Ms: Number(r.p50 ?? 0),
      p95Ms: Number(r.p95 ?? 0),
      p99Ms: Number(r.p99 ?? 0),
      avgMs: Number(r.avg ?? 0),
    }));
  }

  async throughput(teamId: string | null, from: Date, until: Date): Promise<ThroughputRow[]> {
    const rows: Array<{ day: string; runs: string; runs_failed: string; ai: string; tools: string; writes: string }> = await this.dataSource.query(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE type = $4) AS runs,
              count(*) FILTER (WHERE type = $4 AND attributes->>'status' = 'RUN_STATUS_FAILED') AS runs_failed,
              count(*) FILTER (WHERE type = $5) AS ai,
              count(*) FILTER (WHERE type = $6) AS tools,
              count(*) FILTER (WHERE type = $7 AND attributes->>'action' <> 'auth.failed') AS writes
         FROM ${EVENTS}
        WHERE occurred_at >= $2 AND occurred_at < $3 AND ($1::uuid IS NULL OR team_id = $1) AND type IN ($4, $5, $6, $7)
        GROUP BY 1 ORDER BY 1`,
      [teamId, from, until, Events.runFinished.subject, Events.aiUsageRecorded.subject, Events.toolExecuted.subject, Events.auditRecorded.subject],
    );
    return rows.map((r) => ({
      day: r.day,
      runs: Number(r.runs),
      runsFailed: Number(r.runs_failed),
      aiRequests: Number(r.ai),
      toolCalls: Number(r.tools),
      apiWrites: Number(r.writes),
    }));
  }
}

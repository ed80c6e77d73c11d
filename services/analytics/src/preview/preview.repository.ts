import { Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { DataSource } from 'typeorm';

// The app preview's telemetry, read back from analytics.events (type = the fact's subject,
// attributes = the fact as proto3 JSON). Every query is scoped to one team AND one app.
export interface PreviewScope {
  teamId: string;
  appId: string;
}

export interface ConsoleRow {
  level: string;
  message: string;
  source: string;
  pageUrl: string;
  occurredAt: Date;
}

export interface NetworkRow {
  method: string;
  url: string;
  status: number;
  durationMs: number;
  error: string;
  pageUrl: string;
  occurredAt: Date;
}

export interface ReportTotals {
  pageViews: number;
  uniqueVisitors: number;
  consoleErrors: number;
  failedRequests: number;
  avgLoadMs: number;
  topPages: { path: string; views: number; visitors: number }[];
}

const EVENTS = '"analytics"."events"';
// A request failed when it got no response (status 0) or an error status.
const FAILED = `(COALESCE((attributes->>'status')::int, 0) = 0 OR (attributes->>'status')::int >= 400)`;

@Injectable()
export class PreviewRepository {
  constructor(private readonly dataSource: DataSource) {}

  // levels = null: every level.
  async consoleLogs(scope: PreviewScope, q: { levels: string[] | null; since: Date | null; limit: number }): Promise<{ rows: ConsoleRow[]; total: number }> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT attributes->>'level' AS level, attributes->>'message' AS message, attributes->>'source' AS source,
              attributes->>'pageUrl' AS page_url, occurred_at, count(*) OVER () AS total
         FROM ${EVENTS}
        WHERE type = $1 AND team_id = $2 AND app_id = $3
          AND ($4::timestamptz IS NULL OR occurred_at > $4)
          AND ($5::text[] IS NULL OR attributes->>'level' = ANY($5))
        ORDER BY occurred_at DESC, event_id DESC
        LIMIT $6`,
      [Events.previewConsoleLogged.subject, scope.teamId, scope.appId, q.since, q.levels, q.limit],
    );
    return {
      total: rows.length ? Number(rows[0].total) : 0,
      rows: rows.map((r) => ({
        level: str(r.level),
        message: str(r.message),
        source: str(r.source),
        pageUrl: str(r.page_url),
        occurredAt: r.occurred_at as Date,
      })),
    };
  }

  async networkRequests(scope: PreviewScope, q: { failedOnly: boolean; since: Date | null; limit: number }): Promise<{ rows: NetworkRow[]; total: number }> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT attributes->>'method' AS method, attributes->>'url' AS url, COALESCE((attributes->>'status')::int, 0) AS status,
              COALESCE((attributes->>'durationMs')::float8, 0) AS duration_ms, attributes->>'error' AS error,
              attributes->>'pageUrl' AS page_url, occurred_at, count(*) OVER () AS total
         FROM ${EVENTS}
        WHERE type = $1 AND team_id = $2 AND app_id = $3
          AND ($4::timestamptz IS NULL OR occurred_at > $4)
          AND (NOT $5::boolean OR ${FAILED})
        ORDER BY occurred_at DESC, event_id DESC
        LIMIT $6`,
      [Events.previewNetworkRequested.subject, scope.teamId, scope.appId, q.since, q.failedOnly, q.limit],
    );
    return {
      total: rows.length ? Number(rows[0].total) : 0,
      rows: rows.map((r) => ({
        method: str(r.method),
        url: str(r.url),
        status: Number(r.status),
        durationMs: Number(r.duration_ms),
        error: str(r.error),
        pageUrl: str(r.page_url),
        occurredAt: r.occurred_at as Date,
      })),
    };
  }

  async report(scope: PreviewScope, from: Date, topPages: number): Promise<ReportTotals> {
    const pv = Events.previewPageViewed.subject;
    const [totals]: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE type = $4) AS page_views,
              count(DISTINCT NULLIF(attributes->>'visitorId', '')) FILTER (WHERE type = $4) AS unique_visitors,
              count(*) FILTER (WHERE type = $5 AND attributes->>'level' = 'error') AS console_errors,
              count(*) FILTER (WHERE type = $6 AND ${FAILED}) AS failed_requests,
              avg((attributes->>'loadMs')::float8) FILTER (WHERE type = $4 AND (attributes->>'loadMs')::float8 > 0 AND (attributes->>'loadMs')::float8 < 'Infinity') AS avg_load_ms
         FROM ${EVENTS}
        WHERE team_id = $1 AND app_id = $2 AND occurred_at > $3 AND type IN ($4, $5, $6)`,
      [scope.teamId, scope.appId, from, pv, Events.previewConsoleLogged.subject, Events.previewNetworkRequested.subject],
    );
    const pages: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT attributes->>'path' AS path, count(*) AS views, count(DISTINCT NULLIF(attributes->>'visitorId', '')) AS visitors
         FROM ${EVENTS}
        WHERE team_id = $1 AND app_id = $2 AND occurred_at > $3 AND type = $4
        GROUP BY 1
        ORDER BY views DESC, path ASC
        LIMIT $5`,
      [scope.teamId, scope.appId, from, pv, topPages],
    );
    return {
      pageViews: Number(totals.page_views),
      uniqueVisitors: Number(totals.unique_visitors),
      consoleErrors: Number(totals.console_errors),
      failedRequests: Number(totals.failed_requests),
      avgLoadMs: totals.avg_load_ms == null ? 0 : Number(totals.avg_load_ms),
      topPages: pages.map((p) => ({ path: str(p.path), views: Number(p.views), visitors: Number(p.visitors) })),
    };
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

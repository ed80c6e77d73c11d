import { Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { DataSource } from 'typeorm';

export interface AiUsageCell {
  day: string;
  appId: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  costUsd: number;
}

@Injectable()
export class AiUsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  // The team's usage facts summed per UTC day and app in [from, until).
  async daily(teamId: string, from: Date, until: Date): Promise<AiUsageCell[]> {
    const rows: Array<{
      day: string;
      app_id: string | null;
      n: string;
      input: string;
      output: string;
      cache_read: string;
      cache_write: string;
      cost: number | null;
    }> = await this.dataSource.query(
      `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, app_id, count(*) AS n,
                coalesce(sum((attributes->>'inputTokens')::bigint), 0) AS input,
                coalesce(sum((attributes->>'outputTokens')::bigint), 0) AS output,
                coalesce(sum((attributes->>'cacheReadInputTokens')::bigint), 0) AS cache_read,
                coalesce(sum((attributes->>'cacheCreationInputTokens')::bigint), 0) AS cache_write,
                coalesce(sum((attributes->>'costUsd')::float8), 0) AS cost
         FROM "analytics"."events"
         WHERE team_id = $1 AND type = $2 AND occurred_at >= $3 AND occurred_at < $4
         GROUP BY 1, 2 ORDER BY 1, 2`,
      [teamId, Events.aiUsageRecorded.subject, from, until],
    );
    return rows.map((r) => ({
      day: r.day,
      appId: r.app_id,
      requests: Number(r.n),
      inputTokens: Number(r.input),
      outputTokens: Number(r.output),
      cacheReadInputTokens: Number(r.cache_read),
      cacheCreationInputTokens: Number(r.cache_write),
      costUsd: Number(r.cost ?? 0),
    }));
  }
}

import { Injectable } from '@nestjs/common';
import { ToolStatsRepository } from './tool-stats.repository';

const DAY_MS = 86_400_000;

// How the team's tool calls went over the last days: count, mean and p95 duration per outcome.
@Injectable()
export class ToolStatsService {
  constructor(private readonly stats: ToolStatsRepository) {}

  async lastDays(teamId: string, days: number) {
    const since = new Date(Date.now() - days * DAY_MS).toISOString();
    const stats = await this.stats.since(teamId, since);
    return {
      since,
      tools: stats.rows.map((r) => ({
        tool: r.tool,
        outcome: r.outcome,
        count: Number(r.count),
        avgMs: Math.round(r.avgMs * 10) / 10,
        p95Ms: Math.round(r.p95Ms * 10) / 10,
      })),
    };
  }
}

import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type analyticsV1 } from '@overskill/contracts';
import { AI_USAGE_MAX_DAYS } from '../routing/anthropic-messages.schema';
import { AiUsageRepository } from './ai-usage.repository';

const DAY_MS = 86_400_000;

// AI usage and cost per day and app, summed by analytics from the usage facts.
@Injectable()
export class AiUsageService {
  constructor(private readonly usage: AiUsageRepository) {}

  // Days are UTC dates (YYYY-MM-DD); by default the last seven, ending today.
  async daily(teamId: string, range: { from?: string; to?: string }) {
    const to = range.to ?? new Date().toISOString().slice(0, 10);
    const from = range.from ?? new Date(Date.parse(to) - 6 * DAY_MS).toISOString().slice(0, 10);
    // The schema checks a range given whole; this covers one end given and the other defaulted.
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days < 1) throw new AppError(ErrorCode.VALIDATION_FAILED, `from (${from}) must not be after to (${to})`);
    if (days > AI_USAGE_MAX_DAYS)
      throw new AppError(ErrorCode.VALIDATION_FAILED, `the range ${from}..${to} covers ${days} days; ask for at most ${AI_USAGE_MAX_DAYS}`);
    const u = await this.usage.daily(teamId, from, to);
    return {
      from: u.from,
      to: u.to,
      totals: totals(u.totals),
      days: u.days.map((d) => ({ day: d.day, ...totals(d.totals) })),
      apps: u.apps.map((a) => ({ appId: a.appId || null, ...totals(a.totals) })),
      cells: u.cells.map((c) => ({ day: c.day, appId: c.appId || null, ...totals(c.totals) })),
    };
  }
}

function totals(t: analyticsV1.AiUsageTotals | undefined) {
  return {
    requests: Number(t?.requests ?? 0),
    inputTokens: Number(t?.inputTokens ?? 0),
    outputTokens: Number(t?.outputTokens ?? 0),
    cacheReadTokens: Number(t?.cacheReadInputTokens ?? 0),
    cacheWriteTokens: Number(t?.cacheCreationInputTokens ?? 0),
    costUsd: t?.costUsd ?? 0,
  };
}

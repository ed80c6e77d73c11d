import type { AiUsageDaily, AiUsageTotals } from '@console/api/types';

const ZERO: AiUsageTotals = { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };

// Every day of the range: the team's totals, or one app's (null: calls outside an app), with
// zeros on the days it made no call.
export function usageRows(usage: AiUsageDaily, appId?: string | null): Array<{ day: string } & AiUsageTotals> {
  if (appId === undefined) return usage.days;
  const cells = new Map(usage.cells.filter((c) => c.appId === appId).map((c) => [c.day, c]));
  return usage.days.map(({ day }) => {
    const cell = cells.get(day);
    return cell
      ? {
          day,
          requests: cell.requests,
          inputTokens: cell.inputTokens,
          outputTokens: cell.outputTokens,
          cacheReadTokens: cell.cacheReadTokens,
          cacheWriteTokens: cell.cacheWriteTokens,
          costUsd: cell.costUsd,
        }
      : { day, ...ZERO };
  });
}

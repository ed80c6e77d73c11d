import { Rpc } from '@overskill/contracts';
import type { CliCommand } from '../command';
import { ProgressLine } from '../progress/progress-line';
import { RANGE_HELP, RANGE_OPTIONS, reportRange } from '../reports/report-range';

// A year and a bit: one request per day, each a transaction of its own on analytics.
const MAX_REBUILD_DAYS = 400;

// Derives the daily aggregates again from the stored events, day by day (each day atomically,
// also while facts keep arriving), with progress on stderr.
export const analyticsRebuildCommand: CliCommand = {
  words: ['analytics', 'rebuild'],
  help: `  analytics rebuild ${RANGE_HELP} [--json]\n                                          Re-derive the daily aggregates from the stored events (default: the last 30 days, every team)`,
  options: { ...RANGE_OPTIONS },
  async run(ctx, values) {
    const range = reportRange(values, 'analytics rebuild', MAX_REBUILD_DAYS);
    const progress = new ProgressLine('analytics rebuild', 'days', Boolean(values.json));
    const started = performance.now();
    let events = 0;
    let rows = 0;
    try {
      for (const [i, day] of range.days.entries()) {
        const r = await ctx.rpc.send(Rpc.analyticsAggregatesRebuild, { teamId: range.teamId, from: day, to: day }, { timeoutMs: 120_000 });
        events += Number(r.events);
        rows += Number(r.rows);
        progress.update(i + 1, range.days.length, `${events} events`);
      }
    } finally {
      progress.end();
    }
    const seconds = (performance.now() - started) / 1000;
    const result = {
      from: range.from,
      to: range.to,
      team: range.teamId || null,
      days: range.days.length,
      events,
      rows,
      seconds: Math.round(seconds * 100) / 100,
    };
    if (values.json) return JSON.stringify(result);
    return `analytics rebuild: ${result.days} days (${range.from}..${range.to}, ${range.teamId ? `team ${range.teamId}` : 'every team'}): ${events} events -> ${rows} aggregate rows in ${result.seconds} s`;
  },
};

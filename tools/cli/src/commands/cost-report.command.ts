import { businessReportView, Rpc, type BusinessReportView } from '@overskill/contracts';
import type { CliCommand } from '../command';
import { barChart, dayChart, renderHtml, writeHtmlReport, type Section } from '../reports/html-report';
import { RANGE_HELP, RANGE_OPTIONS, reportRange } from '../reports/report-range';

const MAX_DAYS = 92;
const TOP = 20;
const usd = (v: number) => `$${v.toFixed(2)}`;

// The seed's monthly cost review: AI spend by team, app and model with what the response cache
// saved, and each app's share of the infrastructure cost model.
export const costReportCommand: CliCommand = {
  words: ['cost', 'report'],
  help: `  cost report ${RANGE_HELP}\n              [--html <file>] [--json]    AI spend by team/app/model with cache savings, infrastructure cost per app (cost model)`,
  options: { ...RANGE_OPTIONS, html: { type: 'string' } },
  async run(ctx, values) {
    const range = reportRange(values, 'cost report', MAX_DAYS);
    const report = businessReportView(
      await ctx.rpc.send(Rpc.analyticsBusinessRead, { teamId: range.teamId, from: range.from, to: range.to }, { timeoutMs: 30_000 }),
    );
    const empty = report.totals.aiRequests === 0 && report.totals.toolCalls === 0 && report.totals.runs === 0 && report.totals.infraCostUsd === 0;
    const scope = range.teamId ? `team ${range.teamId}` : 'every team';
    if (typeof values.html === 'string') writeHtmlReport(values.html, costHtml(report, scope, empty), 'cost report');
    if (values.json) return JSON.stringify({ report: 'cost', scope: range.teamId || 'all', empty, ...report });
    return costText(report, scope, empty) + (typeof values.html === 'string' ? `\n\nHTML report written to ${values.html}` : '');
  },
};

function totalUsd(r: BusinessReportView): number {
  return r.totals.aiCostUsd + r.totals.infraCostUsd;
}

function costText(r: BusinessReportView, scope: string, empty: boolean): string {
  const head = `cost report ${r.from}..${r.to} (${scope}; cost model ${r.costModel})`;
  if (empty) return `${head}\nNo activity recorded in this range: nothing to report.`;
  const t = r.totals;
  const lines = [
    head,
    `  AI spend ${usd(t.aiCostUsd)} (${t.aiRequests} requests, ${t.aiTokens} tokens); response cache saved ~${usd(t.cacheSavingsUsd)} (${(t.cacheHitRate * 100).toFixed(1)}% hits)`,
    `  infrastructure share ${usd(t.infraCostUsd)}; total ${usd(totalUsd(r))}`,
    '',
    'By team:',
    ...r.teams.map((x) => `  ${x.teamId}  AI ${usd(x.aiCostUsd).padStart(10)}  infra ${usd(x.infraCostUsd).padStart(10)}  ${x.aiRequests} requests`),
    '',
    `By app (top ${TOP}):`,
    ...r.apps
      .slice(0, TOP)
      .map(
        (a) =>
          `  ${(a.appId ?? '(outside an app)').padEnd(36)}  AI ${usd(a.aiCostUsd).padStart(10)}  infra ${usd(a.infraCostUsd).padStart(10)}  total ${usd(a.totalCostUsd).padStart(10)}`,
      ),
    '',
    'By model:',
    ...r.models.map(
      (m) => `  ${m.model.padEnd(20)} ${usd(m.costUsd).padStart(10)}  ${m.requests} requests, ${m.cacheHits} cache hits saved ~${usd(m.cacheSavingsUsd)}`,
    ),
  ];
  return lines.join('\n');
}

function costHtml(r: BusinessReportView, scope: string, empty: boolean): string {
  const subtitle = `${r.from} to ${r.to}, ${scope}, cost model ${r.costModel}`;
  if (empty) return renderHtml('Cost report', subtitle, [{ heading: 'No data', note: 'No activity recorded in this range: nothing to report.' }]);
  const t = r.totals;
  const sections: Section[] = [
    {
      heading: 'Totals',
      table: {
        columns: ['AI spend (USD)', 'Cache savings (USD)', 'Infrastructure (USD)', 'Total (USD)', 'AI requests', 'Cache hit rate'],
        rows: [[t.aiCostUsd, t.cacheSavingsUsd, t.infraCostUsd, totalUsd(r), t.aiRequests, `${(t.cacheHitRate * 100).toFixed(1)}%`]],
      },
    },
    {
      heading: 'Spend per day',
      chart: dayChart(
        r.days.map((d) => ({ day: d.day, values: [d.aiCostUsd, d.infraCostUsd] })),
        ['AI', 'infrastructure'],
        'USD',
      ),
    },
    {
      heading: 'By team',
      chart: barChart(
        r.teams.map((x) => ({ label: x.teamId.slice(0, 8), value: x.aiCostUsd + x.infraCostUsd })),
        'USD',
      ),
      table: {
        columns: ['Team', 'AI (USD)', 'Infrastructure (USD)', 'AI requests'],
        rows: r.teams.map((x) => [x.teamId, x.aiCostUsd, x.infraCostUsd, x.aiRequests]),
      },
    },
    {
      heading: `By app (top ${TOP})`,
      chart: barChart(
        r.apps.slice(0, TOP).map((a) => ({ label: a.appId?.slice(0, 8) ?? '(outside an app)', value: a.totalCostUsd })),
        'USD',
      ),
      table: {
        columns: ['App', 'Team', 'AI (USD)', 'Infrastructure (USD)', 'Total (USD)'],
        rows: r.apps.slice(0, TOP).map((a) => [a.appId ?? '(outside an app)', a.teamId, a.aiCostUsd, a.infraCostUsd, a.totalCostUsd]),
      },
    },
    {
      heading: 'By model',
      chart: barChart(
        r.models.map((m) => ({ label: m.model, value: m.costUsd })),
        'USD',
      ),
      table: {
        columns: ['Model', 'Requests', 'Tokens', 'Spend (USD)', 'Cache hits', 'Cache savings (USD)'],
        rows: r.models.map((m) => [m.model, m.requests, m.tokens, m.costUsd, m.cacheHits, m.cacheSavingsUsd]),
      },
    },
  ];
  return renderHtml('Cost report', subtitle, sections);
}

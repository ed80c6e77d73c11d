import { performanceReportView, Rpc, type PerformanceReportView } from '@overskill/contracts';
import type { CliCommand } from '../command';
import { barChart, dayChart, renderHtml, writeHtmlReport, type Section } from '../reports/html-report';
import { prometheusLatencies, type PrometheusFigures, type PromLatency } from '../reports/prometheus.repository';
import { RANGE_HELP, RANGE_OPTIONS, reportRange } from '../reports/report-range';

const MAX_DAYS = 92;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);

// The seed's monthly performance review. From analytics' facts always (model calls, tool calls,
// runs, audited API writes); route and subject latency from Prometheus when one is reachable.
export const performanceReportCommand: CliCommand = {
  words: ['performance', 'report'],
  help: `  performance report ${RANGE_HELP}\n              [--prometheus <url>] [--html <file>] [--json]  Latency percentiles, throughput, error rates (facts; Prometheus: routes, subjects)`,
  options: { ...RANGE_OPTIONS, html: { type: 'string' }, prometheus: { type: 'string' } },
  async run(ctx, values) {
    const range = reportRange(values, 'performance report', MAX_DAYS);
    const promUrl = typeof values.prometheus === 'string' ? values.prometheus : process.env.PROMETHEUS_URL || '';
    const [facts, prometheus] = await Promise.all([
      ctx.rpc.send(Rpc.analyticsPerformanceRead, { teamId: range.teamId, from: range.from, to: range.to }, { timeoutMs: 30_000 }).then(performanceReportView),
      promUrl ? prometheusLatencies(promUrl, range.from, range.to) : Promise.resolve(null),
    ]);
    const empty = facts.latencies.length === 0;
    const scope = range.teamId ? `team ${range.teamId}` : 'every team';
    if (typeof values.html === 'string') writeHtmlReport(values.html, perfHtml(facts, prometheus, scope, empty), 'performance report');
    if (values.json)
      return JSON.stringify({
        report: 'performance',
        scope: range.teamId || 'all',
        empty,
        ...facts,
        prometheus: prometheus ?? { reachable: false, error: 'not configured (--prometheus or PROMETHEUS_URL)' },
      });
    return perfText(facts, prometheus, scope, empty) + (typeof values.html === 'string' ? `\n\nHTML report written to ${values.html}` : '');
  },
};

function promNote(p: PrometheusFigures | null): string {
  if (!p) return 'Route and subject latency: no Prometheus configured (--prometheus <url> or PROMETHEUS_URL); figures below are from analytics facts.';
  if (!p.reachable) return `Route and subject latency: Prometheus at ${p.url} not reachable (${p.error}); figures below are from analytics facts.`;
  return `Route and subject latency from Prometheus at ${p.url}; the rest from analytics facts.`;
}

function latencyLines(rows: PerformanceReportView['latencies'], kind: string): string[] {
  return rows
    .filter((l) => l.kind === kind)
    .map(
      (l) =>
        `  ${l.name.padEnd(32)} ${String(l.count).padStart(7)}  err ${pct(l.errorRate).padStart(6)}  p50 ${ms(l.p50Ms).padStart(10)}  p95 ${ms(l.p95Ms).padStart(10)}  p99 ${ms(l.p99Ms).padStart(10)}`,
    );
}

function promLines(rows: PromLatency[]): string[] {
  return rows.map(
    (l) =>
      `  ${l.name.padEnd(40)} ${l.ratePerS.toFixed(3).padStart(9)}/s  err ${pct(l.errorRate).padStart(6)}  p50 ${ms(l.p50Ms).padStart(10)}  p95 ${ms(l.p95Ms).padStart(10)}  p99 ${ms(l.p99Ms).padStart(10)}`,
  );
}

function perfText(r: PerformanceReportView, p: PrometheusFigures | null, scope: string, empty: boolean): string {
  const head = [`performance report ${r.from}..${r.to} (${scope})`, promNote(p)];
  const prom = p?.reachable
    ? ['', 'HTTP routes (Prometheus):', ...promLines(p.routes), '', 'NATS subjects, handler side (Prometheus):', ...promLines(p.subjects)]
    : [];
  if (empty) return [...head, 'No facts recorded in this range: nothing to report from analytics.', ...prom].join('\n');
  const sum = (k: 'runs' | 'runsFailed' | 'aiRequests' | 'toolCalls' | 'apiWrites') => r.days.reduce((a, d) => a + d[k], 0);
  const days = r.days.length;
  return [
    ...head,
    `  throughput: ${sum('runs')} runs (${sum('runsFailed')} failed), ${sum('aiRequests')} model calls, ${sum('toolCalls')} tool calls, ${sum('apiWrites')} API writes over ${days} days`,
    '',
    'Model calls by alias (count, error rate, latency):',
    ...latencyLines(r.latencies, 'ai_model'),
    '',
    'Tool calls by tool:',
    ...latencyLines(r.latencies, 'tool'),
    '',
    'API writes by route (audited; latency in Prometheus):',
    ...latencyLines(r.latencies, 'route'),
    ...prom,
  ].join('\n');
}

function latencyTable(
  rows: Array<{ name: string; count?: number; ratePerS?: number; errorRate: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null }>,
  countColumn: string,
) {
  return {
    columns: ['Name', countColumn, 'Error rate', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)'],
    rows: rows.map((l) => [l.name, l.count ?? Math.round((l.ratePerS ?? 0) * 1000) / 1000, pct(l.errorRate), l.p50Ms ?? '-', l.p95Ms ?? '-', l.p99Ms ?? '-']),
  };
}

function perfHtml(r: PerformanceReportView, p: PrometheusFigures | null, scope: string, empty: boolean): string {
  const subtitle = `${r.from} to ${r.to}, ${scope}`;
  const sections: Section[] = [{ heading: 'Sources', note: promNote(p) }];
  if (empty) sections.push({ heading: 'No data', note: 'No facts recorded in this range: nothing to report from analytics.' });
  else {
    const of = (kind: string) => r.latencies.filter((l) => l.kind === kind);
    sections.push(
      {
        heading: 'Throughput per day',
        chart: dayChart(
          r.days.map((d) => ({ day: d.day, values: [d.aiRequests, d.toolCalls, d.runs] })),
          ['model calls', 'tool calls', 'runs'],
          '',
        ),
      },
      {
        heading: 'Model calls: p95 latency by alias',
        chart: barChart(
          of('ai_model').map((l) => ({ label: l.name, value: l.p95Ms ?? 0 })),
          'ms',
        ),
        table: latencyTable(of('ai_model'), 'Calls'),
      },
      {
        heading: 'Tool calls: p95 latency by tool',
        chart: barChart(
          of('tool').map((l) => ({ label: l.name, value: l.p95Ms ?? 0 })),
          'ms',
        ),
        table: latencyTable(of('tool'), 'Calls'),
      },
      {
        heading: 'API writes by route: error rate',
        chart: barChart(
          of('route').map((l) => ({ label: l.name, value: l.errorRate * 100 })),
          '%',
        ),
        table: latencyTable(of('route'), 'Requests'),
      },
    );
  }
  if (p?.reachable) {
    sections.push(
      {
        heading: 'HTTP routes (Prometheus): p95 latency',
        chart: barChart(
          p.routes.map((l) => ({ label: l.name, value: l.p95Ms ?? 0 })),
          'ms',
        ),
        table: latencyTable(p.routes, 'Requests/s'),
      },
      {
        heading: 'NATS subjects (Prometheus): p95 handler latency',
        chart: barChart(
          p.subjects.map((l) => ({ label: l.name, value: l.p95Ms ?? 0 })),
          'ms',
        ),
        table: latencyTable(p.subjects, 'Requests/s'),
      },
    );
  }
  return renderHtml('Performance report', subtitle, sections);
}

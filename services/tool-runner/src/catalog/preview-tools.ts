import { defineTool } from './tool-definition';

const since = {
  type: 'string',
  maxLength: 40,
  pattern: '^\\d{4}-\\d{2}-\\d{2}T',
  description: 'Only entries after this time (RFC 3339, e.g. 2026-01-31T12:00:00Z)',
};
const limit = { type: 'integer', minimum: 1, maximum: 500, description: 'How many, newest first (default 50)' };

export const readConsoleLogsTool = defineTool<{ min_level?: 'debug' | 'info' | 'warn' | 'error'; since?: string; limit?: number }>({
  name: 'read_console_logs',
  description: () =>
    "Read the browser console of the app's live preview (errors, warnings, logs), newest first. Use it after a change to see whether the app broke.",
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    properties: {
      min_level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], description: 'Lowest level to include (default: all)' },
      since,
      limit,
    },
  }),
  writes: 'none',
  delegatesTo: 'analytics (analytics.console.read.v1)',
  async run(input, ctx) {
    const res = await ctx.deps.analytics.consoleLogs(ctx.call, { minLevel: input.min_level, since: input.since, limit: input.limit ?? 50 });
    if (res.entries.length === 0) return { output: 'The preview console has no entries' + (input.min_level ? ` at ${input.min_level} or above.` : '.') };
    const lines = res.entries.map((e) => `${e.occurredAt} [${e.level}] ${e.message}${e.source ? ` (${e.source})` : ''}`);
    const more = Number(res.total) > res.entries.length ? `\n(${Number(res.total) - res.entries.length} older entries not shown)` : '';
    return { output: lines.join('\n') + more };
  },
});

export const readNetworkRequestsTool = defineTool<{ failed_only?: boolean; since?: string; limit?: number }>({
  name: 'read_network_requests',
  description: () =>
    "Read the HTTP requests the app's live preview made (method, URL, status, time), newest first; failed_only shows just errors and status >= 400.",
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    properties: { failed_only: { type: 'boolean' }, since, limit },
  }),
  writes: 'none',
  delegatesTo: 'analytics (analytics.network.read.v1)',
  async run(input, ctx) {
    const res = await ctx.deps.analytics.networkRequests(ctx.call, { failedOnly: input.failed_only ?? false, since: input.since, limit: input.limit ?? 50 });
    if (res.entries.length === 0) return { output: input.failed_only ? 'No failed requests from the preview.' : 'The preview made no requests yet.' };
    const lines = res.entries.map(
      (r) => `${r.occurredAt} ${r.method} ${r.url} → ${r.error ? `failed: ${r.error}` : r.status} (${Math.round(r.durationMs)} ms)`,
    );
    const more = Number(res.total) > res.entries.length ? `\n(${Number(res.total) - res.entries.length} older requests not shown)` : '';
    return { output: lines.join('\n') + more };
  },
});

export const readAnalyticsTool = defineTool<{ days?: number }>({
  name: 'read_analytics',
  description: () => "Read the app's traffic and health summary: page views, visitors, top pages, console errors and failed requests over the last days.",
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    properties: { days: { type: 'integer', minimum: 1, maximum: 90, description: 'Period in days (default 7)' } },
  }),
  writes: 'none',
  delegatesTo: 'analytics (analytics.report.read.v1)',
  async run(input, ctx) {
    const r = await ctx.deps.analytics.report(ctx.call, input.days ?? 7);
    const pages = r.topPages.map((p) => `  ${p.path}: ${p.views} views, ${p.visitors} visitors`).join('\n');
    return {
      output: [
        `Last ${r.days} days: ${r.pageViews} page views, ${r.uniqueVisitors} unique visitors, average load ${Math.round(r.avgLoadMs)} ms`,
        `Console errors: ${r.consoleErrors}; failed requests: ${r.failedRequests}`,
        pages ? `Top pages:\n${pages}` : 'No page views yet.',
      ].join('\n'),
    };
  },
});

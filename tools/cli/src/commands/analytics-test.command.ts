import { Events, Rpc } from '@overskill/contracts';
import { randomUUID } from 'node:crypto';
import { CliError } from '../cli-context';
import type { CliCommand } from '../command';

const POLL_MS = 50;

// The seed's analytics check: a probe fact published on the EVENTS stream must be stored and
// aggregated by analytics; the time it took is the ingest lag. Each probe has a team id of its
// own, so its aggregate row proves this very fact was counted, once.
export const analyticsTestCommand: CliCommand = {
  words: ['analytics', 'test'],
  help: '  analytics test [--timeout <s>] [--json]  Publish a probe fact; see analytics store and aggregate it; report the lag and backlog',
  options: { timeout: { type: 'string' } },
  async run(ctx, values) {
    const timeoutText = typeof values.timeout === 'string' ? values.timeout : '10';
    const timeoutS = Number(timeoutText);
    if (!/^\d+(\.\d+)?$/.test(timeoutText) || timeoutS <= 0 || timeoutS > 300)
      throw new CliError(`analytics test: --timeout takes seconds (0 < s <= 300), got "${timeoutText}"`);
    const eventId = randomUUID();
    const teamId = randomUUID();
    const started = performance.now();
    await ctx.publishFact(Events.analyticsProbe, { eventId, occurredAt: new Date().toISOString(), teamId }, eventId);
    const publishMs = performance.now() - started;
    let storedMs: number | null = null;
    let aggregatedMs: number | null = null;
    let backlog = { pending: 0, ackPending: 0 };
    let error = '';
    while (performance.now() - started < timeoutS * 1000) {
      try {
        const p = await ctx.rpc.send(Rpc.analyticsProbeGet, { eventId, teamId }, { timeoutMs: 5000 });
        backlog = { pending: Number(p.pending), ackPending: Number(p.ackPending) };
        if (p.stored && storedMs === null) storedMs = performance.now() - started;
        if (p.aggregated) {
          aggregatedMs = performance.now() - started;
          break;
        }
      } catch (err) {
        error = `analytics did not answer: ${(err as Error).message}`;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const ok = aggregatedMs !== null;
    if (!ok && !error)
      error = `the probe was ${storedMs === null ? 'not stored' : 'stored but not aggregated'} within ${timeoutS} s (backlog ${backlog.pending} pending)`;
    const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    const result = {
      ok,
      eventId,
      publishMs: round(publishMs),
      storedMs: round(storedMs),
      lagMs: round(aggregatedMs),
      pending: backlog.pending,
      ackPending: backlog.ackPending,
      error: error || null,
    };
    if (values.json) return { text: JSON.stringify(result), code: ok ? 0 : 1 };
    const lines = ok
      ? [
          `analytics: ok — probe ${eventId} stored and aggregated once`,
          `  published in ${result.publishMs} ms, stored after ${result.storedMs ?? result.lagMs} ms, aggregated after ${result.lagMs} ms`,
          `  EVENTS backlog: ${backlog.pending} not yet delivered, ${backlog.ackPending} in flight`,
        ]
      : [`analytics: FAIL — ${error}`];
    return { text: lines.join('\n'), code: ok ? 0 : 1 };
  },
};

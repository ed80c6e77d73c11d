import { Rpc } from '@overskill/contracts';
import { CliError } from '../cli-context';
import { defineCommand } from '../command';

interface ToolSummary {
  tool: string;
  uses: number;
  failures: number;
  failureRate: number | null;
  failuresByCode: Record<string, number>;
  avgMs: number | null;
  p95OkMs: number | null;
}

// The seed's `overskill:tools:stats`: which tools a team's agents use most and least, how often
// each fails (by error code) and how long it takes, from analytics' record of every execution.
export const toolsStats = defineCommand({
  words: ['tools', 'stats'],
  help: `  tools stats --team <id> [--days <n>]    Tool use of a team: most and least used, failure rate and codes, avg and
              [--json]                    P95 duration of successful calls (default the last 7 days)`,
  options: { team: { type: 'string', required: true }, days: { type: 'string' } },
  async run(ctx, flags) {
    const days = flags.days === undefined ? 7 : Number(flags.days);
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new CliError('--days takes a whole number of days from 1 to 366');
    const since = new Date(Date.now() - days * 86_400_000).toISOString();
    const [{ rows }, catalog] = await Promise.all([
      ctx.rpc.send(Rpc.analyticsToolStatsRead, { teamId: flags.team, since }),
      // The catalog names the tools never used, which are the least used of all.
      ctx.rpc.send(Rpc.toolCatalogList, {}).catch(() => undefined),
    ]);
    const byTool = new Map<string, ToolSummary & { weightedMs: number }>();
    const summary = (tool: string) => {
      let s = byTool.get(tool);
      if (!s) byTool.set(tool, (s = { tool, uses: 0, failures: 0, failureRate: null, failuresByCode: {}, avgMs: null, p95OkMs: null, weightedMs: 0 }));
      return s;
    };
    for (const r of rows) {
      const s = summary(r.tool);
      const n = Number(r.count);
      s.uses += n;
      s.weightedMs += r.avgMs * n;
      if (r.outcome === 'ok') s.p95OkMs = Math.round(r.p95Ms * 10) / 10;
      else {
        s.failures += n;
        s.failuresByCode[r.outcome] = (s.failuresByCode[r.outcome] ?? 0) + n;
      }
    }
    for (const t of catalog?.tools ?? []) summary(t.name);
    const tools: ToolSummary[] = [...byTool.values()]
      .map(({ weightedMs, ...s }) => ({
        ...s,
        avgMs: s.uses > 0 ? Math.round((weightedMs / s.uses) * 10) / 10 : null,
        failureRate: s.uses > 0 ? s.failures / s.uses : null,
      }))
      .sort((a, b) => b.uses - a.uses || a.tool.localeCompare(b.tool));
    const used = tools.filter((t) => t.uses > 0);
    const total = used.reduce((a, t) => a + t.uses, 0);
    const report = {
      teamId: flags.team,
      days,
      since,
      executions: total,
      failures: used.reduce((a, t) => a + t.failures, 0),
      mostUsed: used.slice(0, 5).map((t) => t.tool),
      leastUsed: [...tools]
        .reverse()
        .slice(0, 5)
        .map((t) => t.tool),
      tools,
    };
    if (flags.json) return JSON.stringify(report);
    if (total === 0) return `no tool executions for team ${flags.team} in the last ${days} day${days === 1 ? '' : 's'}`;
    const lines = [
      `team ${flags.team}, last ${days} day${days === 1 ? '' : 's'}: ${total} tool calls, ${report.failures} failed (${((100 * report.failures) / total).toFixed(1)}%)`,
      '',
      `${'tool'.padEnd(22)} ${'uses'.padStart(7)} ${'failed'.padStart(7)} ${'rate'.padStart(7)} ${'avg ms'.padStart(9)} ${'p95 ms'.padStart(9)}  failures by code`,
    ];
    for (const t of tools) {
      const rate = t.failureRate === null ? '-' : `${(100 * t.failureRate).toFixed(1)}%`;
      const codes = Object.entries(t.failuresByCode)
        .sort((a, b) => b[1] - a[1])
        .map(([code, n]) => `${code} ${n}`)
        .join(', ');
      const ms = (v: number | null) => (v === null ? '-' : v.toFixed(1));
      lines.push(
        `${t.tool.padEnd(22)} ${String(t.uses).padStart(7)} ${String(t.failures).padStart(7)} ${rate.padStart(7)} ${ms(t.avgMs).padStart(9)} ${ms(t.p95OkMs).padStart(9)}  ${codes}`,
      );
    }
    lines.push('', `most used: ${report.mostUsed.join(', ')}`, `least used: ${report.leastUsed.join(', ')}`);
    return lines.join('\n');
  },
});

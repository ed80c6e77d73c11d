import { aiUsageSummaryView, Rpc } from '@overskill/contracts';
import { CliError } from '../cli-context';
import { defineCommand } from '../command';

// `ai status`: the active alias, every model and its breaker, the config in force.
export const aiStatus = defineCommand({
  words: ['ai', 'status'],
  help: '  ai status [--json]                      Active model alias, models and their circuit breakers, cache stats',
  options: {},
  async run(ctx, flags) {
    const s = await ctx.rpc.send(Rpc.aiRouterStatus, {});
    const c = await ctx.rpc.send(Rpc.aiCacheStats, {});
    if (flags.json) {
      return JSON.stringify({
        activeAlias: s.activeAlias,
        aliases: s.aliases.map((a) => ({ alias: a.alias, provider: a.provider, model: a.model })),
        breakers: s.breakers.map((b) => ({ model: b.model, state: b.state, consecutiveFailures: b.consecutiveFailures, openedAt: b.openedAt || null })),
        cache: {
          hits: Number(c.hits),
          misses: Number(c.misses),
          hitRate: c.hitRate,
          bytes: Number(c.bytes),
          maxBytes: Number(c.maxBytes),
          entries: Number(c.entries),
        },
        config: { source: s.configSource, loadedAt: s.configLoadedAt, priceTableVersion: s.priceTableVersion },
      });
    }
    const breakers = new Map(s.breakers.map((b) => [b.model, b]));
    const lines = [`active alias for primary: ${s.activeAlias}`, ''];
    for (const a of s.aliases) {
      const b = breakers.get(a.model);
      lines.push(`  ${a.alias.padEnd(10)} ${`${a.provider}/${a.model}`.padEnd(44)} ${a.alias === 'image' ? '' : (b?.state ?? 'closed')}`);
    }
    lines.push(
      '',
      `cache: ${Number(c.hits)} hits, ${Number(c.misses)} misses (${(c.hitRate * 100).toFixed(1)}%), ${Number(c.entries)} entries, ${Number(c.bytes)} of ${Number(c.maxBytes)} bytes`,
    );
    lines.push(`config: ${s.configSource}, loaded ${s.configLoadedAt}, prices ${s.priceTableVersion}`);
    return lines.join('\n');
  },
});

// `ai switch-model <alias>`: every ai-router replica routes `primary` to it within a second.
export const aiSwitchModel = defineCommand({
  words: ['ai', 'switch-model'],
  help: '  ai switch-model <alias> [--json]        Route primary to another alias (fallback, …; primary = back to normal)',
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx, flags, [alias = '']) {
    const r = await ctx.rpc.send(Rpc.aiModelSwitch, { alias });
    if (flags.json) return JSON.stringify({ activeAlias: r.activeAlias, previousAlias: r.previousAlias });
    return `primary now routes to ${r.activeAlias} (was ${r.previousAlias}); every ai-router replica follows within a second`;
  },
});

// `ai usage --team <id> [--day YYYY-MM-DD]`: one team's calls, tokens by kind and spend on a UTC day.
export const aiUsage = defineCommand({
  words: ['ai', 'usage'],
  help: `  ai usage --team <id> [--day <date>]     A team's model calls, tokens and spend on a UTC day
           [--json]`,
  options: { team: { type: 'string', required: true }, day: { type: 'string' } },
  async run(ctx, flags) {
    const u = await ctx.rpc.send(Rpc.aiUsageSummary, { teamId: flags.team, day: flags.day ?? '' });
    const summary = aiUsageSummaryView(u);
    if (flags.json) return JSON.stringify(summary);
    const t = summary.tokens;
    return [
      `team ${summary.teamId} on ${summary.day}: ${summary.requests} calls (${summary.cacheHits} from the response cache)`,
      `tokens: ${t.input} input, ${t.output} output, ${t.cacheRead} cache read, ${t.cacheWrite} cache write`,
      `spend: $${summary.costUsd.toFixed(4)}${summary.budgetUsd ? ` of a $${summary.budgetUsd.toFixed(2)} daily budget ($${summary.committedUsd.toFixed(4)} committed incl. calls in flight)` : ' (no daily budget)'}`,
    ].join('\n');
  },
});

// The seed's `ai:test`: one minimal call to each configured model (never a secret in the output).
export const aiTest = defineCommand({
  words: ['ai', 'test'],
  help: `  ai test [--alias <alias>] [--timeout <seconds>] A minimal call to each configured model: latency, ok or the error
          [--json]                        (exit 1 when any fails)`,
  options: { alias: { type: 'string' }, timeout: { type: 'string' } },
  async run(ctx, flags) {
    const timeout = flags.timeout === undefined ? 15 : Number(flags.timeout);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 120) throw new CliError('--timeout takes whole seconds from 1 to 120');
    const aliases = flags.alias ? flags.alias.split(',').map((a) => a.trim()) : [];
    const r = await ctx.rpc.send(Rpc.aiModelTest, { aliases, timeoutMs: timeout * 1000 }, { timeoutMs: timeout * 1000 + 5000 });
    const results = r.results.map((m) => ({
      alias: m.alias,
      provider: m.provider,
      model: m.model,
      ok: m.skipped ? null : m.ok,
      latencyMs: m.skipped ? null : Math.round(m.latencyMs),
      error: m.errorKind ? { kind: m.errorKind, message: m.errorMessage, httpStatus: m.httpStatus || null } : null,
      skipped: m.skipped || null,
    }));
    const failed = results.filter((m) => m.ok === false).length;
    const code = failed > 0 ? 1 : 0;
    if (flags.json) return { text: JSON.stringify({ ok: failed === 0, failed, models: results }), code };
    const lines = results.map((m) => {
      const what = `${m.alias.padEnd(10)} ${`${m.provider}/${m.model}`.padEnd(44)}`;
      if (m.skipped) return `skip  ${what} ${m.skipped}`;
      return `${m.ok ? 'ok  ' : 'FAIL'}  ${what} ${String(m.latencyMs).padStart(6)} ms${m.error ? `  ${m.error.kind}: ${m.error.message}` : ''}`;
    });
    lines.push(failed > 0 ? `${failed} of ${results.filter((m) => m.ok !== null).length} models failed` : 'every configured model answered');
    return { text: lines.join('\n'), code };
  },
});

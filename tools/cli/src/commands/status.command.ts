import { HealthPing, SERVICE_NAMES } from '@overskill/contracts';
import { defineCommand } from '../command';

// The seed's `overskill:status`: every service, its readiness and its dependencies, with latency.
export const status = defineCommand({
  words: ['status'],
  help: '  status [--json]                         Readiness of every service and its dependencies, with latency',
  options: {},
  async run(ctx, flags) {
    const rows = await Promise.all(
      SERVICE_NAMES.map(async (service) => {
        const started = performance.now();
        try {
          const pong = await ctx.rpc.send(HealthPing[service], {}, { timeoutMs: 2000 });
          const deps = pong.dependencies.map((d) => `${d.name}:${d.up ? 'up' : `DOWN (${d.error})`}`).join(' ');
          return { service, ok: pong.ready, latencyMs: performance.now() - started, detail: deps, instance: pong.instanceId };
        } catch (err) {
          return { service, ok: false, latencyMs: performance.now() - started, detail: (err as Error).message, instance: '' };
        }
      }),
    );
    const ok = rows.every((r) => r.ok);
    if (flags.json) return { code: ok ? 0 : 1, text: JSON.stringify({ ok, services: rows }) };
    const lines = rows.map((r) => `${r.ok ? 'ok  ' : 'FAIL'}  ${r.service.padEnd(13)} ${r.latencyMs.toFixed(1).padStart(7)} ms  ${r.detail}`);
    return { code: ok ? 0 : 1, text: [`platform: ${ok ? 'healthy' : 'DEGRADED'}`, ...lines].join('\n') };
  },
});

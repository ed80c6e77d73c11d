import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { DEFAULT_CACHE_CONFIG, LeveledCache, REDIS_CLIENT_OPTIONS } from '@overskill/persistence';
import { demoResponder, stackNatsCredentials } from '@overskill/testing';
import Redis from 'ioredis';
import type { NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';
import { formatTable, machineInfo, print, recordResult } from './support/results';
import { median, ratio, round } from './support/stats';

// The seed's cache levels under the demo workload: several apps, each sent the demo's messages
// through the real platform (gateway → orchestrator → ai-router with the demo agent → tool-runner
// → git-service), with the hit rate of each level read from the services' own metrics against
// the seed's target (> 60 %). Then the context build's I/O with the cache (Redis hits) against
// without it (the tool catalog and the file tree the orchestrator asks for on a miss), in
// the same run on the same apps.
const APPS = Number(process.env.BENCH_CACHE_APPS ?? 4);
const MESSAGES = ['Build a to-do app', 'Add a due date to each task', 'Make the buttons bigger and blue'];
const SAMPLES = Number(process.env.BENCH_CACHE_SAMPLES ?? 30);
const TARGET = 0.6;

type Counts = Record<string, { hits: number; misses: number }>;

async function cacheCounts(url: string): Promise<Counts> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Counts = {};
  for (const [, kind, level, value] of text.matchAll(/^cache_(hits|misses)_total\{[^}]*level="(\w+)"[^}]*\} (\d+(?:\.\d+)?)$/gm)) {
    const c = (counts[level!] ??= { hits: 0, misses: 0 });
    c[kind as 'hits' | 'misses'] += Number(value);
  }
  return counts;
}

function add(a: Counts, b: Counts): Counts {
  const out: Counts = JSON.parse(JSON.stringify(a));
  for (const [level, c] of Object.entries(b)) {
    const o = (out[level] ??= { hits: 0, misses: 0 });
    o.hits += c.hits;
    o.misses += c.misses;
  }
  return out;
}

describe('benchmark: cache levels', () => {
  let h: GatewayHarness;
  let nc: NatsConnection;
  let redis: Redis;

  afterAll(async () => {
    redis?.disconnect();
    await nc?.close();
    await h?.stop();
  });

  it('reports the hit rate per level under the demo workload and the context build with and without the cache', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    h = await startGatewayHarness({
      name: 'bench-cache',
      redisDb: 12,
      env: { GATEWAY_RATE_LIMIT_IP_MAX: '1000000', GATEWAY_RATE_LIMIT_KEY_MAX: '1000000', LOG_LEVEL: 'warn' },
    });
    h.anthropic.respondWith(demoResponder);
    const owner = h.key('bench-cache', 'owner');
    const runTo = async (appId: string, content: string) => {
      const { runId } = (await h.api(`/api/apps/${appId}/messages`, { method: 'POST', key: owner.key, body: { content } })).body;
      for (let i = 0; i < 1200; i++) {
        const run = (await h.api(`/api/runs/${runId}`, { key: owner.key })).body;
        if (['completed', 'failed', 'cancelled'].includes(run.status)) return run.status as string;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`run ${runId} did not finish`);
    };

    // The workload: the apps take turns, as several users would.
    const apps: Array<{ id: string }> = [];
    for (let i = 0; i < APPS; i++) apps.push((await h.api('/api/apps', { method: 'POST', key: owner.key, body: { name: `Demo app ${i + 1}` } })).body);
    const statuses: string[] = [];
    const workloadStarted = performance.now();
    for (const message of MESSAGES) for (const app of apps) statuses.push(await runTo(app.id, message));
    const workloadMs = performance.now() - workloadStarted;
    expect(statuses.every((s) => s === 'completed')).toBe(true);
    const counts = add(await cacheCounts(h.platform.urls.orchestrator!), await cacheCounts(h.platform.urls['tool-runner']!));

    // The context build's I/O for one run, both ways, per app, alternating.
    nc = await connectNats(h.natsUrl, 'bench-cache', stackNatsCredentials(h));
    const rpc = new NatsRpcClient(nc, createServiceMetrics('bench-cache'), 30_000);
    redis = new Redis(h.redisUrl, REDIS_CLIENT_OPTIONS);
    await new Promise((resolve) => redis.once('ready', resolve));
    const cache = new LeveledCache(redis, DEFAULT_CACHE_CONFIG, new Registry());
    const uncached = async (appId: string) => {
      const [catalog, tree] = await Promise.all([
        rpc.send(Rpc.toolCatalogList, {}, { tenantId: owner.teamId }),
        rpc.send(Rpc.gitWorktreeList, { appId }, { tenantId: owner.teamId }),
      ]);
      return catalog.tools.length + tree.paths.length;
    };
    const cached = (appId: string) =>
      Promise.all([
        cache.global('ai_standards', 'tool-catalog', async () => (await rpc.send(Rpc.toolCatalogList, {})).tools.map((t) => ({ name: t.name }))),
        cache.tenant('app_schema', { teamId: owner.teamId, appId }, () => uncached(appId)),
      ]);
    const withCache: number[] = [];
    const withoutCache: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      for (const app of apps) {
        let t = performance.now();
        await uncached(app.id);
        withoutCache.push(performance.now() - t);
        t = performance.now();
        await cached(app.id);
        withCache.push(performance.now() - t);
      }
    }

    const rate = (c: { hits: number; misses: number } | undefined) => (c && c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : null);
    const total = Object.values(counts).reduce((a, c) => ({ hits: a.hits + c.hits, misses: a.misses + c.misses }), { hits: 0, misses: 0 });
    const levels = ['global', 'tenant', 'file', 'all'].map((level) => {
      const c = level === 'all' ? total : counts[level];
      const r = rate(c);
      return { level, hits: c?.hits ?? 0, misses: c?.misses ?? 0, hitRate: r === null ? null : round(r, 3), meetsTarget: r === null ? null : r > TARGET };
    });
    const m = { with: round(median(withCache), 2), without: round(median(withoutCache), 2) };
    print(
      `\ncache levels: ${APPS} apps × ${MESSAGES.length} demo messages (${statuses.length} runs in ${round(workloadMs / 1000, 1)} s); target hit rate > ${TARGET * 100} %`,
    );
    print(
      formatTable(
        ['level', 'hits', 'misses', 'hit rate', `> ${TARGET * 100} %`],
        levels.map((l) => [
          l.level,
          l.hits,
          l.misses,
          l.hitRate === null ? '-' : `${round(l.hitRate * 100, 1)} %`,
          l.meetsTarget === null ? 'no lookups' : l.meetsTarget ? 'yes' : 'NO',
        ]),
      ),
    );
    print(
      `context build I/O per run, ${withCache.length} samples (medians): with the cache ${m.with} ms, without ${m.without} ms, ratio ${ratio(m.with, m.without)}`,
    );
    recordResult({
      benchmark: 'cache-levels',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        platform: 'gateway, orchestrator, ai-router (demo agent on the Anthropic fake), tool-runner, git-service, analytics from dist/ (startGatewayHarness)',
        workload: `${APPS} apps, each sent ${MESSAGES.length} messages in turn: ${MESSAGES.join(' / ')}`,
        hitRates: 'cache_hits_total / cache_misses_total per level from the orchestrator and tool-runner /metrics after the workload',
        contextBuild: 'per app, alternating: the tool catalog and the two git diffs over NATS (a miss) against the same through LeveledCache (Redis hits)',
      },
      results: {
        levels,
        contextBuildMs: { withCache: m.with, withoutCache: m.without, ratio: ratio(m.with, m.without), samples: withCache.length },
        runs: statuses.length,
        workloadMs: round(workloadMs),
      },
      goals: [],
    });
    expect(withCache.length).toBe(SAMPLES * APPS);
  });
});

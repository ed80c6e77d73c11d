import { launchPlatform, runAllMigrations, type RunningPlatform } from '@overskill/testing';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { spawnTracked, stopChild, waitForLine } from './support/child-process';
import { cpuPerUnitMs, cpuSnapshot, stackServerPids } from './support/process-cpu';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult, type GoalResult } from './support/results';
import { mergeRounds, type Measured } from './support/autocannon';
import { measureFloorParts } from './support/gateway-floor';
import { natsTraffic, natsTrafficPerUnit, type NatsTraffic } from './support/nats-traffic';
import { stallsDuring, stallSnapshot, type StallSnapshot } from './support/node-metrics';
import { ratio, round } from './support/stats';

// The public edge under load: authenticated GET /api/apps (helmet, CORS, the per-IP and per-key
// rate limits in Redis, the key check, the role check, validation, the team's list generation,
// then the page from the replica's copy) against a bare Fastify route that does nothing, on the
// same machine in the same run. The same list through a replica with the list cache off (the
// tenant-scoped page over NATS from the orchestrator's Postgres on every request) and the
// gateway's own /health/live (every edge hook, no key, no backend) are measured too, to show
// where the time goes. Reports; fails only on errors.

const DURATION_S = Number(process.env.BENCH_GATEWAY_SECONDS ?? 10);
const WARMUP_S = 3;
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 32);
const ROUNDS = 2;
const GOAL_RPS = 5000;
const GOAL_P99_MS = 20;
const FLOOR_SECONDS = 5;
// The churn series: one rename of an app of the measured team this often.
const CHURN_INTERVAL_MS = Number(process.env.BENCH_GATEWAY_CHURN_MS ?? 100);

// autocannon ships no type declarations; the little used here is typed by hand.
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
const autocannon = require('autocannon') as (opts: {
  url: string;
  headers: Record<string, string>;
  connections: number;
  duration: number;
  pipelining: number;
}) => Promise<AutocannonResult>;

const BARE_FASTIFY = `
const fastify = require('fastify')({ logger: false });
fastify.get('/bare', async () => ({ ok: true }));
fastify.listen({ port: 0, host: '127.0.0.1' }).then(() => process.stdout.write('ready ' + fastify.server.address().port + '\\n'));
process.once('SIGTERM', () => fastify.close().then(() => process.exit(0)));
`;

function sumMs(parts: Record<string, number>): number {
  return round(
    Object.values(parts).reduce((a, b) => a + b, 0),
    3,
  );
}

async function load(url: string, headers: Record<string, string>, seconds: number): Promise<Measured> {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  return {
    rps: round(result.requests.average, 0),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

describe('benchmark: gateway authenticated list vs bare Fastify', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let uncached: RunningPlatform | undefined;
  let bare: ChildProcess | undefined;

  afterAll(async () => {
    if (bare) await stopChild(bare);
    await uncached?.stop();
    await platform?.stop();
  });

  it('measures req/s and p99 of GET /api/apps against a bare Fastify route', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-gateway');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const common = {
      root: REPO_ROOT,
      ...stack,
      redisUrl: `${stack.redisUrl.replace(/\/\d*$/, '')}/7`,
      workspacesDir: join(dir, 'w'),
      backupDir: join(dir, 'b'),
    };
    const env = {
      LOG_LEVEL: 'warn',
      GATEWAY_RATE_LIMIT_IP_MAX: '100000000',
      GATEWAY_RATE_LIMIT_KEY_MAX: '100000000',
      ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
    };
    platform = await launchPlatform({ ...common, logDir: join(dir, 'logs'), services: ['gateway', 'orchestrator', 'git-service'], env });
    // A second replica with the list cache off: every list goes through the orchestrator and Postgres.
    uncached = await launchPlatform({
      ...common,
      logDir: join(dir, 'logs-uncached'),
      services: ['gateway'],
      env: { ...env, GATEWAY_APP_LIST_CACHE_TTL_MS: '0' },
    });
    const gateway = platform.urls.gateway!;
    // The measured team gets 20 apps (one full default page); a viewer key reads them.
    const team = `bench-${Date.now()}`;
    const owner = createTeamKey(stack, team, 'owner');
    const viewer = createTeamKey(stack, team, 'viewer');
    const teamId = viewer.teamId;
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${gateway}/api/apps`, {
        method: 'POST',
        headers: { 'x-api-key': owner.key, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench ${i}`, template: 'empty' }),
      });
      expect(res.status).toBe(201);
    }
    const page = (await (await fetch(`${gateway}/api/apps`, { headers: { 'x-api-key': viewer.key } })).json()) as { data: unknown[] };
    expect(page.data).toHaveLength(20);

    bare = spawnTracked(process.execPath, ['-e', BARE_FASTIFY], { cwd: REPO_ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = Number((await waitForLine(bare, (l) => l.startsWith('ready '), 20_000, 'bare fastify')).split(' ')[1]);
    const bareUrl = `http://127.0.0.1:${port}/bare`;
    const subjects = {
      bare: { url: bareUrl, headers: {} as Record<string, string> },
      gatewayLive: { url: `${gateway}/health/live`, headers: {} as Record<string, string> },
      gatewayApps: { url: `${gateway}/api/apps`, headers: { 'x-api-key': viewer.key } },
      gatewayAppsUncached: { url: `${uncached.urls.gateway!}/api/apps`, headers: { 'x-api-key': viewer.key } },
      ...(process.env.BENCH_GATEWAY_EXTRA
        ? {
            appGet: { url: `${gateway}/api/apps/${(page.data[0] as { id: string }).id}`, headers: { 'x-api-key': viewer.key } },
            appsLimit1: { url: `${gateway}/api/apps?limit=1`, headers: { 'x-api-key': viewer.key } },
            keysList: { url: `${gateway}/api/keys`, headers: { 'x-api-key': owner.key } },
          }
        : {}),
    };
    // BENCH_GATEWAY_ONLY=gatewayApps (comma list) measures just those subjects (for profiling).
    const only = process.env.BENCH_GATEWAY_ONLY?.split(',');
    if (only) for (const name of Object.keys(subjects)) if (!only.includes(name)) delete (subjects as Record<string, unknown>)[name];
    for (const s of Object.values(subjects)) await load(s.url, s.headers, WARMUP_S);
    const runs: Record<string, Measured[]> = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
    // Where each subject's CPU goes, in every process (the bench process runs autocannon).
    const pids = platform.pids();
    const processes = {
      ...stackServerPids(),
      gateway: pids.gateway,
      'gateway-uncached': uncached.pids().gateway,
      orchestrator: pids.orchestrator,
      bare: bare.pid,
    };
    const cpuTotals: Record<string, { before: Record<string, number>; after: Record<string, number>; requests: number }> = {};
    // NATS messages per request by connection (nats-server's /connz), for the first round of each subject.
    const monitorUrl = process.env.OVERSKILL_TEST_NATS_MONITOR_URL;
    const natsPerRequest: Record<string, Record<string, string>> = {};
    // GC pauses and event loop delay of both services during the first round of each subject (the tail's suspects).
    const stalls: Record<string, Record<string, string>> = {};
    const serviceUrls = { gateway: platform.urls.gateway!, orchestrator: platform.urls.orchestrator! };
    const scrapeStalls = async () =>
      Object.fromEntries(await Promise.all(Object.entries(serviceUrls).map(async ([k, url]) => [k, await stallSnapshot(url)] as const))) as Record<
        string,
        StallSnapshot | undefined
      >;
    // Interleaved rounds so drift in the machine's load hits every subject alike.
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      for (const [name, s] of Object.entries(subjects) as Array<[keyof typeof subjects, (typeof subjects)['bare']]>) {
        const trafficBefore: NatsTraffic | undefined = round_ === 0 ? await natsTraffic(monitorUrl) : undefined;
        const stallsBefore = round_ === 0 ? await scrapeStalls() : undefined;
        const before = cpuSnapshot(processes);
        const measured = await load(s.url, s.headers, DURATION_S);
        const after = cpuSnapshot(processes);
        if (round_ === 0) {
          natsPerRequest[name] = natsTrafficPerUnit(trafficBefore, await natsTraffic(monitorUrl), measured.requests);
          const stallsAfter = await scrapeStalls();
          stalls[name] = Object.fromEntries(Object.keys(serviceUrls).map((k) => [k, stallsDuring(stallsBefore?.[k], stallsAfter[k], DURATION_S)]));
        }
        runs[name].push(measured);
        const total = (cpuTotals[name] ??= { before: {}, after: {}, requests: 0 });
        for (const k of Object.keys(after)) {
          total.before[k] = (total.before[k] ?? 0) + before[k]!;
          total.after[k] = (total.after[k] ?? 0) + after[k]!;
        }
        total.requests += measured.requests;
      }
    }
    // CPU ms per request by process; on this machine's cores, 1000 / total bounds req/s.
    const cpuPerRequest = Object.fromEntries(Object.entries(cpuTotals).map(([k, t]) => [k, cpuPerUnitMs(t.before, t.after, t.requests)]));
    const results = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, mergeRounds(v)])) as Record<
      'bare' | 'gatewayLive' | 'gatewayApps' | 'gatewayAppsUncached',
      Measured
    > &
      Record<string, Measured>;
    if (only) {
      print(JSON.stringify({ results, cpuPerRequest, natsPerRequest, stalls }, null, 1));
      return;
    }
    for (const r of Object.values(results)) {
      expect(r.errors).toBe(0);
      expect(r.non2xx).toBe(0);
    }
    // The list while the team's apps keep changing: one rename every CHURN_INTERVAL_MS through the
    // same gateway, each replacing the list generation. How many lists the copy still answers, and
    // at what rate; the writes' own cost is in the series' CPU.
    const churned = (page.data[0] as { id: string }).id;
    const hitsNow = async () => {
      const text = await (await fetch(`${gateway}/metrics`)).text();
      const count = (result: string) => Number(new RegExp(`^gateway_app_list_cache_total\\{result="${result}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { hit: count('hit'), miss: count('miss') };
    };
    let renames = 0;
    let renaming = true;
    const renamer = (async () => {
      while (renaming) {
        const res = await fetch(`${gateway}/api/apps/${churned}`, {
          method: 'PATCH',
          headers: { 'x-api-key': owner.key, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `bench churn ${renames}` }),
        });
        expect(res.status).toBe(200);
        renames++;
        await new Promise((r) => setTimeout(r, CHURN_INTERVAL_MS));
      }
    })();
    const countsBefore = await hitsNow();
    const churnCpuBefore = cpuSnapshot(processes);
    const churn = await load(subjects.gatewayApps.url, subjects.gatewayApps.headers, DURATION_S);
    const churnCpuAfter = cpuSnapshot(processes);
    const countsAfter = await hitsNow();
    renaming = false;
    await renamer;
    expect(churn.errors).toBe(0);
    expect(churn.non2xx).toBe(0);
    const churnHits = countsAfter.hit - countsBefore.hit;
    const churnMisses = countsAfter.miss - countsBefore.miss;
    const churnSeries = {
      ...churn,
      writesPerSecond: round(renames / DURATION_S, 1),
      hitRatio: round(churnHits / Math.max(1, churnHits + churnMisses), 4),
      cpuPerRequestMs: cpuPerUnitMs(churnCpuBefore, churnCpuAfter, churn.requests),
    };
    // The floor: what the path cannot do without, each part measured bare in this run (see
    // support/gateway-floor.ts), against the whole path's CPU per request.
    const parts = await measureFloorParts({
      stack,
      root: REPO_ROOT,
      teamId,
      seconds: FLOOR_SECONDS,
      concurrency: CONNECTIONS,
      stopOrchestrator: () => platform!.stopService('orchestrator'),
    });
    const live = cpuPerRequest['gatewayLive']!;
    // The floor is that of the list read through: the cache-off replica's series.
    const apps = cpuPerRequest['gatewayAppsUncached']!;
    const floorMs = {
      httpEdge: live['gateway']!,
      autocannon: live['bench']!,
      natsRequestReply: parts.nats.cpuPerCallMs['total']!,
      postgresList: parts.postgres.cpuPerCallMs['total']!,
      redisRateLimits: apps['redis']!,
    };
    const floorTotal = sumMs(floorMs);
    // The product's floor: the same, with the request-reply through the platform's messaging on both
    // ends (Nest's dispatch on the server, protobuf both ways, the headers, a span per process as
    // configured) instead of two plain clients, and the key's verification. What this product's
    // shape keeps per request at the least; the gateway's own /health/live already holds Nest's
    // dispatch on Fastify, its HTTP span and every edge hook.
    const productMs = {
      ...floorMs,
      natsRequestReply: parts.natsLib.cpuPerCallMs['total']!,
      keyCheck: parts.keyCheck.cpuPerCallMs['total']!,
    };
    // A floor's total, the req/s it allows on these cores, and how many times it the path costs.
    const bound = (totalMs: number) => ({ totalMs, ceilingRps: Math.round((machine.cpus * 1000) / totalMs), pathOverFloor: ratio(apps['total']!, totalMs) });
    const product = { parts: productMs, natsLibDetail: parts.natsLib.cpuPerCallMs, natsRolesDetail: parts.natsRoles.cpuPerCallMs, ...bound(sumMs(productMs)) };
    const productTotal = product.totalMs;
    const floor = {
      parts: floorMs,
      natsDetail: parts.nats.cpuPerCallMs,
      postgresDetail: parts.postgres.cpuPerCallMs,
      ...bound(floorTotal),
      // A closed loop of N connections at R req/s holds each request N / R s on average: the
      // median and p99 cannot be below it, whatever the code does.
      meanLatencyAtCeilingMs: round((CONNECTIONS * 1000) / ((machine.cpus * 1000) / floorTotal), 1),
      meanLatencyMeasuredMs: round((CONNECTIONS * 1000) / results.gatewayAppsUncached.rps, 1),
    };
    const goals: GoalResult[] = [
      // goal() means "actual ≤ target"; throughput is compared as its inverse (ms per 1000 requests).
      goal(
        'authenticated GET /api/apps: ms per 1,000 requests (≥ 5,000 req/s)',
        round(1_000_000 / results.gatewayApps.rps, 1),
        round(1_000_000 / GOAL_RPS, 1),
        ' ms',
      ),
      goal('authenticated GET /api/apps: p99', results.gatewayApps.p99, GOAL_P99_MS, ' ms'),
    ];
    recordResult({
      benchmark: 'gateway',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        cpu: 'utime+stime from /proc/<pid>/stat of every process tree (PostgreSQL with its backends) around each series; the bench process (autocannon) from process.cpuUsage()',
        tool: `autocannon, ${CONNECTIONS} connections, pipelining 1, ${ROUNDS} interleaved rounds of ${DURATION_S} s per subject after a ${WARMUP_S} s warm-up each; autocannon runs in the bench process on the same machine`,
        gatewayApps:
          "GET /api/apps with X-API-Key (viewer), 20 apps in the team: helmet, CORS, IP + key rate limits (Redis), key check (cached row + sha256), role/scope check, zod query validation, the team's list generation (Redis), the page from the replica's copy while the team's apps are unchanged, JSON",
        gatewayAppsUncached:
          'the same request through a second gateway replica with GATEWAY_APP_LIST_CACHE_TTL_MS=0: every list a NATS request to the orchestrator (tenant-scoped Postgres page); the floor and product ratios are of this series',
        gatewayLive: 'GET /health/live of the same gateway (every edge hook, no key, no backend)',
        bare: 'node -e: require("fastify"), GET /bare returning {ok:true}, no plugins',
      },
      results: {
        ...results,
        cpuPerRequestMs: cpuPerRequest,
        natsPerRequest,
        stalls,
        floor,
        product,
        churn: churnSeries,
        ratioRps: ratio(results.gatewayApps.rps, results.bare.rps),
        ratioRpsUncached: ratio(results.gatewayAppsUncached.rps, results.bare.rps),
        ratioP99: ratio(results.gatewayApps.p99, results.bare.p99),
      },
      goals,
    });
    print(
      `\ngateway — ${CONNECTIONS} connections, ${ROUNDS}×${DURATION_S} s per subject (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`,
    );
    print(
      formatTable(
        ['subject', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'req/s vs bare', 'p99 vs bare'],
        (Object.entries(results) as Array<[string, Measured]>).map(([name, r]) => [
          name,
          r.rps,
          r.p50,
          r.p99,
          r.requests,
          `${ratio(r.rps, results.bare.rps)}×`,
          `${ratio(r.p99, results.bare.p99)}×`,
        ]),
      ),
    );
    print(
      `gatewayApps while an app of the team is renamed every ${CHURN_INTERVAL_MS} ms (${churnSeries.writesPerSecond} writes/s): ${churn.rps} req/s, p50 ${churn.p50} ms, p99 ${churn.p99} ms; ${round(100 * churnSeries.hitRatio, 2)} % of the lists from the copy; CPU ${churnSeries.cpuPerRequestMs['total']} ms per request`,
    );
    print('CPU per request (ms) by process (bench = autocannon), and the req/s the total allows on these cores:');
    for (const [name, byProcess] of Object.entries(cpuPerRequest)) {
      print(
        `  ${name}: ${Object.entries(byProcess)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}; ceiling ${Math.round((machine.cpus * 1000) / byProcess['total']!)} req/s`,
      );
    }
    print('NATS messages per request by connection (nats-server /connz, first round):');
    for (const [name, byConnection] of Object.entries(natsPerRequest)) {
      const parts = Object.entries(byConnection).map(([k, v]) => `${k}: ${v}`);
      if (parts.length > 0) print(`  ${name}: ${parts.join('; ')}`);
    }
    print('GC pauses and event loop delay during the first round:');
    for (const [name, byService] of Object.entries(stalls)) {
      for (const [service, line] of Object.entries(byService)) print(`  ${name}, ${service}: ${line}`);
    }
    print(
      `floor of the list read through (gatewayAppsUncached; CPU ms per request, parts measured bare in this run): ${Object.entries(floorMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; total ${floorTotal} → ceiling ${floor.ceilingRps} req/s; the measured path costs ${floor.pathOverFloor}× the floor`,
    );
    print(
      `  nats request-reply, ${round(parts.nats.calls / FLOOR_SECONDS, 0)}/s: ${JSON.stringify(parts.nats.cpuPerCallMs)}; postgres list, ${round(parts.postgres.calls / FLOOR_SECONDS, 0)}/s: ${JSON.stringify(parts.postgres.cpuPerCallMs)}`,
    );
    print(
      `product floor (the request-reply through libs/messaging on both ends, spans as configured, + the key check): ${Object.entries(productMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; total ${productTotal} → ceiling ${product.ceilingRps} req/s; the measured path costs ${product.pathOverFloor}× it`,
    );
    print(`  lib request-reply, ${round(parts.natsLib.calls / FLOOR_SECONDS, 0)}/s: ${JSON.stringify(parts.natsLib.cpuPerCallMs)}`);
    print(
      `  raw request-reply as the gateway's and orchestrator's identities, ${round(parts.natsRoles.calls / FLOOR_SECONDS, 0)}/s: ${JSON.stringify(parts.natsRoles.cpuPerCallMs)} (test identity above: ${JSON.stringify(parts.nats.cpuPerCallMs)}); key check ${parts.keyCheck.cpuPerCallMs['total']} ms`,
    );
    print(
      `  ${CONNECTIONS} connections in a closed loop: mean latency = ${CONNECTIONS} / req/s = ${floor.meanLatencyMeasuredMs} ms at the measured rate, ${floor.meanLatencyAtCeilingMs} ms at the floor's ceiling`,
    );
    print(`\ngoals (≥ ${GOAL_RPS} authenticated req/s, p99 < ${GOAL_P99_MS} ms):\n${formatGoals(goals)}\n`);
  });
});

import { Events, Rpc } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  launchPlatform,
  runAllMigrations,
  startStack,
  withPostgresClient,
  type FakeTurn,
  type RecordedAnthropicRequest,
  type RunningPlatform,
  type RunningStack,
  stackNatsCredentials,
} from '@overskill/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { createTeamKey } from '../support/cli';
import { integrationStack, jsonBody, REPO_ROOT, scratchDir } from '../support/integration-env';
import { processTree, signalAll } from '../support/processes';

const RUNS = Number(process.env.CHAOS_RUNS ?? 50);
const FAULT_MS = 4000;

// "infra run <i>": two turns, each writing a file, then done; answered after 50 ms.
function model(request: RecordedAnthropicRequest): FakeTurn {
  const messages = request.body.messages as Array<{ role: string }>;
  const turn = Math.floor((messages.length - 1) / 2);
  if (turn >= 2) return { delayMs: 50, content: [{ type: 'text', text: 'Done.' }] };
  return {
    delayMs: 50,
    stop_reason: 'tool_use',
    content: [{ type: 'tool_use', name: 'write_file', input: { path: `step-${turn}.txt`, content: `step ${turn}\n` } }],
  };
}

interface Traffic {
  sent: number;
  ok: number;
  refused503: number;
  other: Record<string, number>;
  stop(): Promise<void>;
}

// Steady reads through the gateway, one at a time, each with a 10 s deadline: a hang is an error.
function steadyTraffic(gateway: string, key: string): Traffic {
  const traffic: Traffic = { sent: 0, ok: 0, refused503: 0, other: {}, stop: async () => undefined };
  let running = true;
  const loop = (async () => {
    while (running && traffic.sent < 100_000) {
      traffic.sent += 1;
      try {
        const res = await fetch(`${gateway}/api/apps?limit=5`, { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        if (res.ok) traffic.ok += 1;
        else if (res.status === 503 && res.headers.get('retry-after')) traffic.refused503 += 1;
        else traffic.other[String(res.status)] = (traffic.other[String(res.status)] ?? 0) + 1;
      } catch (err) {
        const name = (err as Error).name;
        traffic.other[name] = (traffic.other[name] ?? 0) + 1;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  traffic.stop = async () => {
    running = false;
    await loop;
  };
  return traffic;
}

// What the dependency alert rules read (deploy/prometheus/rules/availability.yml).
const GAUGES: Record<'nats' | 'postgres' | 'redis', string[]> = { nats: ['nats', 'jetstream'], postgres: ['postgres'], redis: ['redis'] };

interface GaugeWatch {
  // Per service: whether it reported the dependency down (0) while watched, and its last value.
  seenDown: Set<string>;
  last: Map<string, number>;
  reporting: Set<string>;
  stop(): Promise<void>;
}

// As Prometheus would: every second, each service's /metrics (which checks the dependencies
// itself, no readiness probe needed), read for the gauge of the faulted server.
function watchGauge(urls: Record<string, string | undefined>, server: 'nats' | 'postgres' | 'redis'): GaugeWatch {
  const watch: GaugeWatch = { seenDown: new Set(), last: new Map(), reporting: new Set(), stop: async () => undefined };
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        Object.entries(urls).map(async ([service, url]) => {
          if (!url) return;
          const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) }).then(
            (res) => res.text(),
            () => '',
          );
          for (const dependency of GAUGES[server]) {
            const match = new RegExp(`^overskill_dependency_up\\{[^}]*dependency="${dependency}"[^}]*\\} (\\d+)`, 'm').exec(text);
            if (!match) continue;
            const value = Number(match[1]);
            watch.reporting.add(service);
            watch.last.set(`${service}/${dependency}`, value);
            if (value === 0) watch.seenDown.add(service);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  watch.stop = async () => {
    running = false;
    await loop;
  };
  return watch;
}

const FIGURES_HEADER = [
  '| server | fault | runs | completed | failed (with a code) | stuck | posts retried / replayed | extra runs | requests | 2xx | 503 + Retry-After | lost | facts: runs / stored | ready after (ms) | dependency_up 0 seen in | dependency_up after |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
].join('\n');

jest.setTimeout(600_000);

// The servers the platform stands on fail under load, one at a time: kill -9 then restart, and
// SIGSTOP past every timeout then SIGCONT. Runs are in flight and the gateway takes steady
// traffic. Nothing may be lost: every run ends (completed, or failed with a code), every fact
// is stored once, every request is answered (2xx, or 503 with Retry-After during the outage).
describe('chaos: nats-server, PostgreSQL and Redis fail under load', () => {
  let stack: RunningStack;
  let platform: RunningPlatform;
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  const figures: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  // Written after every fault: a drill cut short still leaves its figures so far.
  const writeFigures = (row: string) => {
    figures.push(row);
    mkdirSync(join(REPO_ROOT, 'tests', 'chaos', 'results'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'tests', 'chaos', 'results', 'infra-faults.md'), `${FIGURES_HEADER}\n${figures.join('\n')}\n`);
  };

  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((stop) => stop()));
  });

  beforeAll(async () => {
    const dir = scratchDir(integrationStack().dataDir, 'infra-faults');
    stack = await startStack({ dataDir: join(dir, 'stack') });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    anthropic.respondWith(model);
    platform = await launchPlatform({
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: stack.databaseUrl,
      redisUrl: stack.redisUrl,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      // Outside the scratch directory: a failed drill's service logs are what explain it.
      logDir: process.env.CHAOS_LOG_DIR ?? join(REPO_ROOT, 'tests', 'chaos', 'results', 'logs'),
      env: {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: await anthropic.start(),
        LOG_LEVEL: 'warn',
        AI_RATE_LIMIT_REQUESTS_PER_MINUTE: '100000',
        GATEWAY_RATE_LIMIT_IP_MAX: '1000000',
        GATEWAY_RATE_LIMIT_KEY_MAX: '1000000',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
    await stack?.stop();
    await anthropic.stop();
  });

  async function readyEventually(expected: number, timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const status = await fetch(`${platform.urls.gateway}/health/ready`, { signal: AbortSignal.timeout(3000) }).then(
        (res) => res.status,
        () => 0,
      );
      if (status === expected) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`gateway readiness stayed ${status}, not ${expected}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const faults = [
    ['nats', 'kill'],
    ['postgres', 'kill'],
    ['redis', 'kill'],
    ['nats', 'pause'],
    ['postgres', 'pause'],
    ['redis', 'pause'],
  ] as const;

  // CHAOS_FAULTS=redis:pause,nats:kill runs a subset.
  const only = process.env.CHAOS_FAULTS?.split(',');
  const selected = only ? faults.filter(([server, fault]) => only.includes(`${server}:${fault}`)) : faults;

  it.each(selected)('%s %s: no run, fact or accepted request is lost', async (server, fault) => {
    const { key, teamId } = createTeamKey(stack, `infra-${server}-${fault}`, 'owner');
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    const gateway = platform.urls.gateway!;
    const apps: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const res = await fetch(`${gateway}/api/apps`, { method: 'POST', headers, body: JSON.stringify({ name: `infra ${i}`, template: 'empty' }) });
      expect(res.status).toBe(201);
      apps.push((await jsonBody(res)).id);
    }
    const traffic = steadyTraffic(gateway, key);
    // Runs are posted before and during the fault, each with its own Idempotency-Key; a post
    // refused with 503 or whose answer was lost is sent again with the same key.
    const runIds: string[] = [];
    const posts = { retried: 0, replayed: 0 };
    const post = async (appId: string, i: number) => {
      const keyed = { ...headers, 'idempotency-key': `infra-${server}-${fault}-${i}` };
      for (let attempt = 0; attempt < 120; attempt++) {
        if (attempt > 0) posts.retried += 1;
        const res = await fetch(`${gateway}/api/apps/${appId}/messages`, {
          method: 'POST',
          headers: keyed,
          body: JSON.stringify({ content: `infra run ${i}` }),
          signal: AbortSignal.timeout(15_000),
        }).catch(() => undefined);
        if (res?.status === 202) {
          const body = await jsonBody(res);
          if (body.replayed) posts.replayed += 1;
          return void runIds.push(body.runId);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`run ${i} could not be posted`);
    };
    const posting = Promise.all(apps.map((appId, i) => new Promise((r) => setTimeout(r, i * 50)).then(() => post(appId, i))));

    await new Promise((r) => setTimeout(r, 600));
    const gauge = watchGauge(platform.urls, server);
    const pidsBefore = platform.pids();
    // Whatever fails below, the drill's loops stop with this fault, not run on into the next.
    cleanups.push(
      () => traffic.stop(),
      () => gauge.stop(),
    );
    const pid = stack.pids()[server]!;
    if (fault === 'kill') {
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, FAULT_MS));
      await stack.startServer(server);
    } else {
      // The whole server, as a VM pause would stop it: PostgreSQL's backends with its postmaster.
      const frozen = processTree(pid);
      signalAll(frozen, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, FAULT_MS * 3));
      signalAll(frozen, 'SIGCONT');
    }
    const readyAfterMs = await readyEventually(200);
    // The gauge back at 1 everywhere (readiness of the gateway alone says little about the rest).
    for (let i = 0; i < 60 && [...gauge.last.values()].some((v) => v !== 1); i++) await new Promise((r) => setTimeout(r, 500));
    await gauge.stop();
    await posting;

    // Every run of the team ends: those the test was told about and any a refused post left.
    type RunRow = { id: string; status: string; error_code: string | null; iterations: number };
    const sql = <T>(text: string, values: unknown[]) => withPostgresClient(stack.databaseUrl, async (db) => (await db.query(text, values)).rows as T[]);
    // The drill's own reads may time out on a machine this busy: asked again, not a failure.
    const runsOf = async (): Promise<RunRow[]> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await sql<RunRow>(`SELECT id, status, error_code, iterations FROM orchestrator.runs WHERE team_id = $1`, [teamId]);
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    };
    const deadline = Date.now() + 180_000 + RUNS * 4000;
    let runs = await runsOf();
    while (Date.now() < deadline && runs.some((run) => !['completed', 'failed', 'cancelled'].includes(run.status))) {
      await new Promise((r) => setTimeout(r, 500));
      runs = await runsOf();
    }
    await traffic.stop();
    const accepted = runs.filter((run) => runIds.includes(run.id));
    const completed = accepted.filter((run) => run.status === 'completed').length;
    const failed = accepted.filter((run) => run.status === 'failed').length;
    const stuck = runs.filter((run) => !['completed', 'failed', 'cancelled'].includes(run.status)).length;
    // A run the client was never told about: a retried post that started a second run.
    const extra = runs.filter((run) => !runIds.includes(run.id));

    // Each finished run's fact is stored once.
    const nc: NatsConnection = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    const rpc = new NatsRpcClient(nc, createServiceMetrics('infra-faults-test'), 20_000);
    const factsOf = async () =>
      new Map(
        (
          await sql<{ run_id: string; n: string }>(`SELECT run_id, count(*) AS n FROM analytics.events WHERE team_id = $1 AND type = $2 GROUP BY run_id`, [
            teamId,
            Events.runFinished.subject,
          ])
        ).map((row) => [row.run_id, Number(row.n)]),
      );
    let facts = await factsOf();
    for (let i = 0; i < 300 && accepted.some((run) => facts.get(run.id) !== 1); i++) {
      await new Promise((r) => setTimeout(r, 100));
      facts = await factsOf();
    }
    // The count analytics itself answers agrees with its rows.
    const counted = (await rpc.send(Rpc.analyticsEventCount, { teamId, type: Events.runFinished.subject })).count;
    await nc.close();
    const stored = accepted.reduce((sum, run) => sum + (facts.get(run.id) ?? 0), 0);

    const lost = Object.values(traffic.other).reduce((a, b) => a + b, 0);
    const gaugeAfter = [...gauge.last.values()].every((v) => v === 1)
      ? `1 in ${gauge.reporting.size}/${gauge.reporting.size}`
      : [...gauge.last]
          .filter(([, v]) => v !== 1)
          .map(([k]) => k)
          .join(', ');
    const lostDetail = lost
      ? ` (${Object.entries(traffic.other)
          .map(([k, n]) => `${n} × ${k}`)
          .join(', ')})`
      : '';
    const failedCodes = [...new Set(accepted.filter((run) => run.status === 'failed').map((run) => run.error_code))].join(', ');
    writeFigures(
      `| ${server} | ${fault} | ${runIds.length} | ${completed} | ${failed}${failedCodes ? ` (${failedCodes})` : ''} | ${stuck} | ${posts.retried} / ${posts.replayed} | ${extra.length} | ${traffic.sent} | ${traffic.ok} | ${traffic.refused503} | ${lost}${lostDetail} | ${accepted.length} / ${stored} | ${readyAfterMs} | ${gauge.seenDown.size}/${gauge.reporting.size} (${[...gauge.seenDown].sort().join(', ')}) | ${gaugeAfter} |`,
    );
    // Every service reconnected by itself: the same processes throughout.
    expect(platform.pids()).toEqual(pidsBefore);
    // The alert rules' metric went to 0 during the outage and is back to 1 everywhere after it.
    expect(gauge.seenDown.size).toBeGreaterThan(0);
    expect(gaugeAfter.startsWith('1 in')).toBe(true);
    // A run may end failed, but only with a code that says why (it can be sent again).
    expect({ runs: runIds.length, stuck }).toEqual({ runs: RUNS, stuck: 0 });
    expect(accepted.filter((run) => run.status === 'failed' && !run.error_code)).toEqual([]);
    // One run per message, however often its post was sent again (the Idempotency-Key).
    expect(extra).toEqual([]);
    expect(new Set(runIds).size).toBe(RUNS);
    expect(traffic.other).toEqual({});
    expect(stored).toBe(accepted.length);
    expect(counted).toBe(BigInt([...facts.values()].reduce((a, b) => a + b, 0)));
  });
});

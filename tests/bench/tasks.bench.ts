import { GitHubFake, launchPlatform, runAllMigrations, signWebhookBody, type RunningPlatform } from '@overskill/testing';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { spawnTracked, stopChild, waitForLine } from './support/child-process';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult, type GoalResult } from './support/results';
import { mergeRounds, type Measured } from './support/autocannon';
import { ratio, round } from './support/stats';

// Webhook ingest under load: POST /api/github/webhook (signature on the raw body, header and
// payload checks, a NATS request to the orchestrator that records the delivery in Postgres and
// publishes it to JetStream) against a bare Fastify route that parses the same JSON body, on the
// same machine in the same run. Every request is a new delivery id. Reports; fails only on errors.

const DURATION_S = Number(process.env.BENCH_TASKS_SECONDS ?? 10);
const WARMUP_S = 3;
const CONNECTIONS = Number(process.env.BENCH_TASKS_CONNECTIONS ?? 16);
const ROUNDS = 2;
const GOAL_P99_MS = 50;
const SECRET = 'bench-webhook-secret';

// autocannon ships no type declarations; the little used here is typed by hand.
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonRequest {
  method: string;
  path?: string;
  headers: Record<string, string>;
  body: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}
const autocannon = require('autocannon') as (opts: { url: string; connections: number; duration: number; pipelining: number; requests: AutocannonRequest[] }) => Promise<AutocannonResult>;

const BARE_FASTIFY = `
const fastify = require('fastify')({ logger: false, bodyLimit: 1048576 });
fastify.post('/bare', async (request, reply) => { reply.code(202); return { ok: typeof request.body === 'object' }; });
fastify.listen({ port: 0, host: '127.0.0.1' }).then(() => process.stdout.write('ready ' + fastify.server.address().port + '\\n'));
process.once('SIGTERM', () => fastify.close().then(() => process.exit(0)));
`;

async function load(url: string, request: AutocannonRequest, seconds: number): Promise<Measured> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, requests: [request] });
  return { rps: round(result.requests.average, 0), p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts, requests: result.requests.total };
}

describe('benchmark: GitHub webhook ingest vs bare Fastify', () => {
  const stack = integrationStack();
  const github = new GitHubFake();
  let platform: RunningPlatform | undefined;
  let bare: ChildProcess | undefined;

  afterAll(async () => {
    if (bare) await stopChild(bare);
    await platform?.stop();
    await github.stop();
  });

  it('measures req/s and p99 of POST /api/github/webhook against a bare Fastify route', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-tasks');
    await github.start();
    github.addRepo('bench', 'ingest');
    const user = { login: 'bench', id: 1, type: 'User' as const };
    github.addToken('ghp_bench_token_0123456789', user, { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      redisUrl: `${stack.redisUrl.replace(/\/\d*$/, '')}/8`,
      workspacesDir: join(dir, 'w'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['gateway', 'orchestrator'],
      env: {
        LOG_LEVEL: 'warn',
        GATEWAY_RATE_LIMIT_IP_MAX: '100000000',
        GITHUB_API_URL: github.url,
        GITHUB_WEBHOOK_SECRET: SECRET,
        PROJECT_SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
        TASK_POLL_INTERVAL_MS: '0',
      },
    });
    const gateway = platform.urls.gateway!;
    const admin = createTeamKey(stack, `bench-tasks-${Date.now()}`, 'admin');
    const created = await fetch(`${gateway}/api/projects`, {
      method: 'POST',
      headers: { 'x-api-key': admin.key, 'content-type': 'application/json' },
      body: JSON.stringify({ repository: 'bench/ingest', auth: { kind: 'token', token: 'ghp_bench_token_0123456789' } }),
    });
    expect(created.status).toBe(201);

    // A real-shaped issues.labeled payload (a label that is not the trigger: the consumer records it and creates nothing).
    const n = github.createIssue('bench/ingest', { title: 'Benchmark issue', body: 'x'.repeat(2000), user });
    const body = JSON.stringify(github.labelIssue('bench/ingest', n, 'documentation', user));
    const headers = { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-hub-signature-256': signWebhookBody(SECRET, body), 'user-agent': 'GitHub-Hookshot/bench' };
    const webhook: AutocannonRequest = { method: 'POST', headers, body, setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-github-delivery': randomUUID() } }) };
    const probe = await fetch(`${gateway}/api/github/webhook`, { method: 'POST', headers: { ...headers, 'x-github-delivery': randomUUID() }, body });
    expect(probe.status).toBe(202);

    bare = spawnTracked(process.execPath, ['-e', BARE_FASTIFY], { cwd: REPO_ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = Number((await waitForLine(bare, (l) => l.startsWith('ready '), 20_000, 'bare fastify')).split(' ')[1]);
    const subjects = {
      bare: { url: `http://127.0.0.1:${port}/bare`, request: { method: 'POST', headers: { 'content-type': 'application/json' }, body } },
      webhook: { url: `${gateway}/api/github/webhook`, request: webhook },
    };
    for (const s of Object.values(subjects)) await load(s.url, s.request, WARMUP_S);
    const runs: Record<keyof typeof subjects, Measured[]> = { bare: [], webhook: [] };
    // Interleaved rounds so drift in the machine's load hits both alike.
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, s] of Object.entries(subjects) as Array<[keyof typeof subjects, (typeof subjects)['bare']]>) runs[name].push(await load(s.url, s.request, DURATION_S));
    }
    const results = { bare: mergeRounds(runs.bare), webhook: mergeRounds(runs.webhook) };
    for (const r of Object.values(results)) {
      expect(r.errors).toBe(0);
      expect(r.non2xx).toBe(0);
    }
    const goals: GoalResult[] = [goal('POST /api/github/webhook: p99', results.webhook.p99, GOAL_P99_MS, ' ms')];
    recordResult({
      benchmark: 'tasks-webhook-ingest',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        tool: `autocannon, ${CONNECTIONS} connections, pipelining 1, ${ROUNDS} interleaved rounds of ${DURATION_S} s per subject after a ${WARMUP_S} s warm-up each; autocannon runs in the bench process on the same machine`,
        webhook: `POST /api/github/webhook, ${body.length} bytes, a new X-GitHub-Delivery per request: IP rate limit (Redis), signature (HMAC-SHA256, @octokit/webhooks), header and payload checks, NATS request to the orchestrator (project lookup, delivery insert in Postgres, JetStream publish with msg-id), 202; the TASKS consumer works in the background`,
        bare: 'node -e: require("fastify"), POST /bare parsing the same JSON body, 202 {ok:true}, no plugins',
      },
      results: { ...results, ratioRps: ratio(results.webhook.rps, results.bare.rps), ratioP99: ratio(results.webhook.p99, results.bare.p99) },
      goals,
    });
    print(`\ntasks: webhook ingest — ${CONNECTIONS} connections, ${ROUNDS}×${DURATION_S} s per subject (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`);
    print(
      formatTable(
        ['subject', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'req/s vs bare', 'p99 vs bare'],
        (Object.entries(results) as Array<[string, Measured]>).map(([name, r]) => [name, r.rps, r.p50, r.p99, r.requests, `${ratio(r.rps, results.bare.rps)}×`, `${ratio(r.p99, results.bare.p99)}×`]),
      ),
    );
    print(`\ngoals (p99 < ${GOAL_P99_MS} ms):\n${formatGoals(goals)}\n`);
  });
});

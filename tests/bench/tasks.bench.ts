import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  GitHttpFake,
  GitHubFake,
  launchPlatform,
  runAllMigrations,
  signWebhookBody,
  stackNatsCredentials,
  type RunningPlatform,
} from '@overskill/testing';
import { connect, type NatsConnection } from 'nats';
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
// Then the queue: QUEUE_TASKS tasks across 10 projects worked end to end by two orchestrator
// replicas on a model that answers at once (see below).

// `pg` ships no types; the little used here is typed by hand.
const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

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
const autocannon = require('autocannon') as (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

const BARE_FASTIFY = `
const fastify = require('fastify')({ logger: false, bodyLimit: 1048576 });
fastify.post('/bare', async (request, reply) => { reply.code(202); return { ok: typeof request.body === 'object' }; });
fastify.listen({ port: 0, host: '127.0.0.1' }).then(() => process.stdout.write('ready ' + fastify.server.address().port + '\\n'));
process.once('SIGTERM', () => fastify.close().then(() => process.exit(0)));
`;

async function load(url: string, request: AutocannonRequest, seconds: number): Promise<Measured> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, requests: [request] });
  return {
    rps: round(result.requests.average, 0),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
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
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-hub-signature-256': signWebhookBody(SECRET, body),
      'user-agent': 'GitHub-Hookshot/bench',
    };
    const webhook: AutocannonRequest = {
      method: 'POST',
      headers,
      body,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-github-delivery': randomUUID() } }),
    };
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
      for (const [name, s] of Object.entries(subjects) as Array<[keyof typeof subjects, (typeof subjects)['bare']]>)
        runs[name].push(await load(s.url, s.request, DURATION_S));
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
    print(
      `\ntasks: webhook ingest — ${CONNECTIONS} connections, ${ROUNDS}×${DURATION_S} s per subject (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`,
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
    print(`\ngoals (p99 < ${GOAL_P99_MS} ms):\n${formatGoals(goals)}\n`);
  });
});

const QUEUE_TASKS = Number(process.env.BENCH_TASKS_QUEUE ?? 1000);
const QUEUE_CAP = 16;
// Ten projects of uneven concurrency (together more than the global cap, so the cap binds).
const QUEUE_CONCURRENCY = [1, 2, 2, 2, 3, 3, 4, 4, 2, 3];
const QUEUE_PRIORITIES = [25, 50, 50, 75, 100];
// One GitHub account per project (as ten installations of an app would be): GitHub paces writes
// and counts quota per account, so one shared token would measure GitHub's pacing, not the queue.
const QUEUE_TOKENS = QUEUE_CONCURRENCY.map(() => `ghp_${randomUUID().replace(/-/g, '')}`);

interface Worked {
  project: string;
  priority: number;
  created: number;
  started: number;
  finished: number;
  status: string;
}

// Claims in start order; an inversion is a task started while one of higher priority waited
// whose project had a free slot (a wait the project's own concurrency explains is not one).
function inversions(tasks: Worked[], concurrency: Map<string, number>): number {
  const byStart = [...tasks].sort((a, b) => a.started - b.started);
  let count = 0;
  for (const t of byStart) {
    const running = new Map<string, number>();
    for (const u of tasks) if (u.started < t.started && u.finished > t.started) running.set(u.project, (running.get(u.project) ?? 0) + 1);
    const waiting = tasks.some((u) => u.priority > t.priority && u.started > t.started && (running.get(u.project) ?? 0) < (concurrency.get(u.project) ?? 0));
    if (waiting) count += 1;
  }
  return count;
}

// The queue end to end: every task a real one (labels, status comment, a clone by git-service,
// an agent run of the app builder's loop through RUNS, ai-router, the answer as a comment), the
// model a fake that answers at once, two orchestrator replicas claiming from Postgres. Measured:
// priority inversions, the running count per project and overall (sampled every 100 ms) against
// each project's concurrency and the global cap, and the time to drain against the ideal — the
// tasks' own work (Σ of their durations, measured in the same run) spread perfectly over the cap.
describe('benchmark: the task queue drained by two replicas', () => {
  // The drain alone may take its 20-minute deadline at 1,000 tasks on a busy machine.
  jest.setTimeout(30 * 60_000);
  const stack = integrationStack();
  const github = new GitHubFake();
  const remote = new GitHttpFake({ token: QUEUE_TOKENS[0]!, moreTokens: QUEUE_TOKENS.slice(1) });
  // No request is kept: the bench reads none, and thousands would grow this process's heap.
  const anthropic = new AnthropicFake({ apiKey: 'bench-key', keepRequests: 0 });
  const platforms: RunningPlatform[] = [];
  let nc: NatsConnection | undefined;
  let db: InstanceType<typeof pg.Client> | undefined;

  afterAll(async () => {
    await db?.end();
    await nc?.close();
    for (const p of platforms.reverse()) await p.stop();
    await github.stop();
    await remote.stop();
    await anthropic.stop();
  });

  it(`drains ${QUEUE_TASKS} tasks across 10 projects of mixed priority`, async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-task-queue');
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith(() => ({ usage: { input_tokens: 10, output_tokens: 5 }, content: [{ type: 'text', text: 'Answered.' }] }));
    await github.start();
    const remoteUrl = await remote.start();
    const user = { login: 'bench', id: 1, type: 'User' as const };
    QUEUE_TOKENS.forEach((token, p) =>
      github.addToken(
        token,
        { login: `overskill-bot-${p}`, id: 100 + p, type: 'User' },
        { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' },
      ),
    );
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const common = {
      root: REPO_ROOT,
      ...stack,
      redisUrl: `${stack.redisUrl.replace(/\/\d*$/, '')}/9`,
      workspacesDir: join(dir, 'w'),
      backupDir: join(dir, 'b'),
    };
    const orchestratorEnv = {
      LOG_LEVEL: 'warn',
      GITHUB_API_URL: github.url,
      GITHUB_GIT_URL: remoteUrl,
      PROJECT_SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      TASK_POLL_INTERVAL_MS: '0',
      TASK_MAX_RUNNING: String(QUEUE_CAP),
      TASK_WORKER_CONCURRENCY: String(QUEUE_CAP),
      TASK_SCHEDULE_INTERVAL_MS: '100',
      RUN_CONCURRENCY: String(QUEUE_CAP),
    };
    platforms.push(
      await launchPlatform({
        ...common,
        logDir: join(dir, 'logs'),
        services: ['ai-router', 'tool-runner', 'git-service', 'orchestrator'],
        env: {
          ...orchestratorEnv,
          ANTHROPIC_API_KEY: 'bench-key',
          ANTHROPIC_BASE_URL: anthropicUrl,
          GIT_REMOTE_ALLOWED_HOSTS: '127.0.0.1',
          GIT_REMOTE_ALLOW_HTTP: 'true',
          AI_RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
          AI_RATE_LIMIT_TOKENS_PER_MINUTE: '1000000000',
        },
      }),
    );
    platforms.push(await launchPlatform({ ...common, logDir: join(dir, 'logs-2'), services: ['orchestrator'], env: orchestratorEnv }));
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    const rpc = new NatsRpcClient(nc, createServiceMetrics('bench-task-queue'), 20_000);
    db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();

    const teamId = randomUUID();
    const concurrency = new Map<string, number>();
    const rows: unknown[][] = [];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0);
    for (let p = 0; p < QUEUE_CONCURRENCY.length; p++) {
      const repository = `bench/queue-${p}`;
      remote.createRepo(repository, { 'README.md': `# Queue ${p}\n` });
      github.addRepo('bench', `queue-${p}`, { refs: () => remote.refs(repository) });
      const project = await rpc.send(
        Rpc.projectCreate,
        { teamId, repository, authKind: 'token', token: QUEUE_TOKENS[p]!, answerMode: 'comment', concurrency: QUEUE_CONCURRENCY[p]! },
        { timeoutMs: 20_000 },
      );
      concurrency.set(project.id, QUEUE_CONCURRENCY[p]!);
      // Tasks in proportion to the project's concurrency: the global cap, not one small project, bounds the drain.
      const share = Math.round((QUEUE_TASKS * QUEUE_CONCURRENCY[p]!) / QUEUE_CONCURRENCY.reduce((a, b) => a + b, 0));
      for (let i = 0; i < share; i++) {
        const n = github.createIssue(repository, { title: `Queue ${p}.${i}`, body: 'Answer briefly.', labels: ['overskill'], user });
        rows.push([
          randomUUID(),
          teamId,
          project.id,
          repository,
          n,
          `Queue ${p}.${i}`,
          QUEUE_PRIORITIES[next() % QUEUE_PRIORITIES.length]!,
          `overskill/issue-${n}`,
          rows.length,
        ]);
      }
    }
    // All at once, in one statement: the drain starts when it commits.
    const values = rows.map(
      (_, i) =>
        `($${i * 9 + 1}, $${i * 9 + 2}, $${i * 9 + 3}, $${i * 9 + 4}, $${i * 9 + 5}, $${i * 9 + 6}, 'queued', $${i * 9 + 7}, $${i * 9 + 8}, 'bench', now() + ($${i * 9 + 9}::int * interval '1 microsecond'))`,
    );
    const t0 = Date.now();
    await db.query(
      `INSERT INTO orchestrator.tasks (id, team_id, project_id, repository, issue_number, title, status, priority, branch, delivery_id, created_at) VALUES ${values.join(', ')}`,
      rows.flat(),
    );
    const maxRunning = new Map<string, number>();
    let maxTotal = 0;
    let samples = 0;
    const deadline = Date.now() + 20 * 60_000;
    for (;;) {
      const running = (
        await db.query(
          `SELECT project_id, count(*)::int AS n FROM orchestrator.tasks WHERE team_id = $1 AND status = 'running' AND lease_until >= now() GROUP BY project_id`,
          [teamId],
        )
      ).rows;
      samples += 1;
      let total = 0;
      for (const r of running) {
        const id = String(r['project_id']);
        maxRunning.set(id, Math.max(maxRunning.get(id) ?? 0, Number(r['n'])));
        total += Number(r['n']);
      }
      maxTotal = Math.max(maxTotal, total);
      const left = Number(
        (await db.query(`SELECT count(*)::int AS n FROM orchestrator.tasks WHERE team_id = $1 AND status IN ('queued', 'running')`, [teamId])).rows[0]?.['n'],
      );
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error(`${left} tasks still queued or running after 20 minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const worked: Worked[] = (
      await db.query(
        `SELECT project_id, priority, status, extract(epoch FROM created_at) * 1000 AS created, extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM finished_at) * 1000 AS finished
           FROM orchestrator.tasks WHERE team_id = $1`,
        [teamId],
      )
    ).rows.map((r) => ({
      project: String(r['project_id']),
      priority: Number(r['priority']),
      status: String(r['status']),
      created: Number(r['created']),
      started: Number(r['started']),
      finished: Number(r['finished']),
    }));
    // Where a task's time goes, from the rows' own timestamps: before its agent run exists (labels,
    // status comment, clone, branch), the run waiting on RUNS, the run itself, and the answer after it.
    const phases = (
      await db.query(
        `SELECT avg(extract(epoch FROM r.created_at - t.started_at)) * 1000 AS prepare, avg(extract(epoch FROM r.started_at - r.created_at)) * 1000 AS run_queued,
                avg(extract(epoch FROM r.finished_at - r.started_at)) * 1000 AS run, avg(extract(epoch FROM t.finished_at - r.finished_at)) * 1000 AS answer
           FROM orchestrator.tasks t JOIN orchestrator.runs r ON r.id = t.run_id WHERE t.team_id = $1`,
        [teamId],
      )
    ).rows[0] as Record<string, unknown>;
    const first = Math.min(...worked.map((t) => t.created));
    const drainMs = Math.max(...worked.map((t) => t.finished)) - first;
    const work = worked.map((t) => t.finished - t.started);
    const sumWork = work.reduce((a, b) => a + b, 0);
    const idealMs = sumWork / QUEUE_CAP;
    // No schedule can beat the busiest project's own work spread over its own concurrency either.
    const projectBoundMs = Math.max(
      ...[...concurrency].map(([id, c]) => worked.filter((t) => t.project === id).reduce((a, t) => a + t.finished - t.started, 0) / c),
    );
    const over = [...maxRunning].filter(([id, n]) => n > (concurrency.get(id) ?? 0));
    const results = {
      tasks: worked.length,
      completed: worked.filter((t) => t.status === 'completed').length,
      inversions: inversions(worked, concurrency),
      samples,
      maxRunningOverall: maxTotal,
      projectsOverConcurrency: over.length,
      maxRunningPerProject: [...concurrency].map(([id, c]) => `${maxRunning.get(id) ?? 0}/${c}`).join(' '),
      meanTaskMs: round(sumWork / worked.length, 0),
      meanPhasesMs: ['prepare', 'run_queued', 'run', 'answer'].map((k) => `${k} ${round(Number(phases[k]), 0)}`).join(' · '),
      drainS: round(drainMs / 1000, 1),
      idealS: round(idealMs / 1000, 1),
      projectBoundS: round(projectBoundMs / 1000, 1),
      drainVsIdeal: ratio(drainMs, Math.max(idealMs, projectBoundMs)),
      tasksPerSecond: round(worked.length / (drainMs / 1000), 1),
      setupS: round((t0 - Date.parse(startedAt)) / 1000, 1),
    };
    recordResult({
      benchmark: 'tasks-queue-drain',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        tasks: `about ${QUEUE_TASKS} tasks inserted in one statement across 10 projects (concurrency ${QUEUE_CONCURRENCY.join(', ')}, tasks in proportion), priorities drawn from ${QUEUE_PRIORITIES.join('/')}; global cap ${QUEUE_CAP}; two orchestrator replicas (${QUEUE_CAP} task workers and run workers each)`,
        work: 'each task: labels, status comment, clone by git-service from a git http-backend, an agent run (one model turn from a fake Anthropic that answers at once), diff, answer comment, labels; answer mode comment; one GitHub account (token) per project',
        ideal: "Σ task durations / global cap (perfect packing), and the busiest project's Σ durations / its concurrency; the ratio is against the larger",
        sampling: 'running tasks per project and overall read from Postgres every 100 ms',
      },
      results,
      goals: [],
    });
    print(
      `\ntasks: queue drain — ${QUEUE_TASKS} tasks, 10 projects, cap ${QUEUE_CAP}, 2 replicas (${machine.cpus} cpus, load ${machine.loadAverage.join(' ')})`,
    );
    print(
      formatTable(
        ['measure', 'value'],
        Object.entries(results).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)]),
      ),
    );
    expect(results.completed).toBe(worked.length);
    expect(over).toEqual([]);
    expect(maxTotal).toBeLessThanOrEqual(QUEUE_CAP);
  });
});

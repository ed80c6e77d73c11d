import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  GitHubFake,
  GitHttpFake,
  launchPlatform,
  runAllMigrations,
  startStack,
  type FakeTurn,
  type RecordedAnthropicRequest,
  type RunningPlatform,
  type RunningStack,
  stackNatsCredentials,
} from '@overskill/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// `pg` ships no types; the little used here is typed by hand.
const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

// `TASKS_CHAOS_TASKS=24 npm run chaos -- tasks-crash` runs the long drill: more tasks, and a kill
// for every two of them at moments drawn from a seeded generator (the same for every run).
const TASKS = Number(process.env['TASKS_CHAOS_TASKS'] ?? 8);
// When (after the previous kill) and which replica is killed: fixed, so every run of the suite is the same drill.
const FIXED_KILLS = [
  { afterMs: 1400, replica: 0 },
  { afterMs: 2900, replica: 1 },
  { afterMs: 900, replica: 1 },
  { afterMs: 2100, replica: 0 },
];
const KILLS = TASKS <= 8 ? FIXED_KILLS : seededKills(Math.ceil(TASKS / 2), Number(process.env['TASKS_CHAOS_SEED'] ?? 12));

// A small linear congruential generator: the same seed, the same drill.
function seededKills(count: number, seed: number): Array<{ afterMs: number; replica: number }> {
  let x = seed >>> 0;
  const next = () => (x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () => ({ afterMs: 600 + Math.floor(next() * 2600), replica: next() < 0.5 ? 0 : 1 }));
}
const TOKEN = `ghp_${randomUUID().replace(/-/g, '')}`;
const alice = { login: 'alice', id: 11, type: 'User' as const };

// Decided by the conversation alone, so a model call repeated after a crash gets the same answer:
// turn 0 writes issue-<n>.txt, turn 1 ends the turn.
function taskModel(request: RecordedAnthropicRequest): FakeTurn {
  const messages = request.body.messages as Array<{ role: string }>;
  const n = Number(/Resolve issue #(\d+)/.exec(JSON.stringify(messages))?.[1] ?? 0);
  const turns = messages.filter((m) => m.role === 'assistant').length;
  const delayMs = 150 + ((n * 37) % 300);
  if (turns === 0)
    return {
      delayMs,
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'write_file', input: { path: `issue-${n}.txt`, content: `fixed ${n}\n` } }],
    };
  return { delayMs, content: [{ type: 'text', text: `Fixed issue ${n}.` }] };
}

jest.setTimeout(300_000 + TASKS * 15_000);

// kill -9 an orchestrator replica at fixed moments while tasks are being worked (the
// poller creating them, runs in flight, pushes and GitHub calls): every task ends, each issue has
// exactly one status comment and at most one pull request, and no `processing` label is left.
describe('chaos: orchestrator replicas killed mid-task', () => {
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  const github = new GitHubFake();
  const remote = new GitHttpFake({ token: TOKEN });
  let stack: RunningStack;
  let deps: RunningPlatform;
  const replicas: RunningPlatform[] = [];
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let db: InstanceType<typeof pg.Client>;

  beforeAll(async () => {
    // Its own stack: the run consumer is created with this test's short ack wait.
    const dir = scratchDir(integrationStack().dataDir, 'tasks-chaos');
    stack = await startStack({ dataDir: join(dir, 'stack') });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith(taskModel);
    const githubUrl = await github.start();
    const remoteUrl = await remote.start();
    remote.createRepo('acme/chaos', { 'README.md': '# Chaos\n' });
    github.addRepo('acme', 'chaos', { refs: () => remote.refs('acme/chaos') });
    github.addToken(TOKEN, { login: 'overskill-bot', id: 12, type: 'User' }, { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' });
    const common = {
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: stack.databaseUrl,
      redisUrl: stack.redisUrl,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
    };
    deps = await launchPlatform({
      ...common,
      logDir: join(dir, 'logs'),
      services: ['ai-router', 'tool-runner', 'git-service'],
      env: {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: anthropicUrl,
        LOG_LEVEL: 'warn',
        GIT_REMOTE_ALLOWED_HOSTS: '127.0.0.1',
        GIT_REMOTE_ALLOW_HTTP: 'true',
        AI_RATE_LIMIT_REQUESTS_PER_MINUTE: '100000',
        AI_RATE_LIMIT_TOKENS_PER_MINUTE: '1000000000',
      },
    });
    const secretKeys = `k1:${randomBytes(32).toString('base64')}`;
    for (const name of ['a', 'b']) {
      replicas.push(
        await launchPlatform({
          ...common,
          logDir: join(dir, `logs-orchestrator-${name}`),
          services: ['orchestrator'],
          // Short clocks so takeover happens in seconds.
          env: {
            LOG_LEVEL: 'warn',
            RUN_ACK_WAIT_MS: '3000',
            RUN_LEASE_MS: '2000',
            TASK_LEASE_MS: '2000',
            TASK_SCHEDULE_INTERVAL_MS: '150',
            TASK_POLL_INTERVAL_MS: '1000',
            GITHUB_API_URL: githubUrl,
            GITHUB_GIT_URL: remoteUrl,
            PROJECT_SECRET_KEYS: secretKeys,
          },
        }),
      );
    }
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('tasks-chaos-test'), 20_000);
    db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
  }, 240_000);

  afterAll(async () => {
    await db?.end();
    await nc?.close();
    for (const r of replicas) await r.stop();
    await deps?.stop();
    await stack?.stop();
    await anthropic.stop();
    await github.stop();
    await remote.stop();
  });

  it(`ends ${TASKS} tasks with replicas killed at fixed (or seeded) moments: no duplicate pull request or comment, no stuck label`, async () => {
    const issues = Array.from({ length: TASKS }, (_, i) =>
      github.createIssue('acme/chaos', { title: `Chaos ${i}`, body: `Fix number ${i}.`, labels: ['overskill'], user: alice }),
    );
    const teamId = randomUUID();
    // The poller finds the labelled issues (no webhook here), three at a time per the project's concurrency.
    await rpc.send(Rpc.projectCreate, { teamId, repository: 'acme/chaos', authKind: 'token', token: TOKEN, concurrency: 3 }, { timeoutMs: 20_000 });
    const statuses = async () =>
      (await db.query(`SELECT issue_number, status, attempts FROM orchestrator.tasks`)).rows as Array<{
        issue_number: number;
        status: string;
        attempts: number;
      }>;
    let kills = 0;
    const started = Date.now();
    const deadline = Date.now() + 240_000 + TASKS * 12_000;
    for (;;) {
      const rows = await statuses();
      if (rows.length === TASKS && rows.every((r) => ['completed', 'failed', 'cancelled'].includes(r.status))) break;
      if (Date.now() > deadline) throw new Error(`tasks not finished: ${JSON.stringify(rows)}`);
      const kill = KILLS[kills];
      if (kill) {
        await new Promise((r) => setTimeout(r, kill.afterMs));
        const victim = replicas[kill.replica]!;
        await victim.stopService('orchestrator', 'SIGKILL');
        kills += 1;
        await victim.start('orchestrator');
      } else await new Promise((r) => setTimeout(r, 300));
    }

    const rows = await statuses();
    // Side effects on the fake beyond one per issue: pull requests opened, status and answer comments posted.
    const created = (pattern: RegExp) => github.calls.filter((c) => c.method === 'POST' && pattern.test(c.path.split('?')[0] ?? '') && c.status === 201).length;
    const duplicates = created(/\/pulls$/) - issues.length + (created(/\/issues\/\d+\/comments$/) - issues.length);
    const stuck = issues.filter((n) => github.issue('acme/chaos', n).labels.includes('processing')).length;
    const report = {
      tasks: TASKS,
      kills,
      completed: rows.filter((r) => r.status === 'completed').length,
      resumed: rows.filter((r) => r.attempts > 1).length,
      duplicates,
      stuckLabels: stuck,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(`tasks chaos: ${JSON.stringify(report)}`);
    expect(duplicates).toBe(0);
    expect(stuck).toBe(0);
    expect(kills).toBe(KILLS.length);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'completed'));
    for (const n of issues) {
      const issue = github.issue('acme/chaos', n);
      expect({ n, status: issue.comments.filter((c) => c.body.includes('overskill:task-status')).length }).toEqual({ n, status: 1 });
      expect({ n, pulls: github.pulls('acme/chaos').filter((p) => p.head === `overskill/issue-${n}`).length }).toEqual({ n, pulls: 1 });
      expect({ n, processing: issue.labels.includes('processing'), completed: issue.labels.includes('completed') }).toEqual({
        n,
        processing: false,
        completed: true,
      });
      expect(remote.refs('acme/chaos')).toContain(`refs/heads/overskill/issue-${n}`);
    }
  });
});

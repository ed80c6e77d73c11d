import { launchPlatform, signWebhookBody, type GitHubFake, type RunningPlatform } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startGatewayHarness, type ApiResponse, type GatewayHarness } from '../support/gateway-harness';
import { REPO_ROOT } from '../support/integration-env';

// `pg` ships no types; the little used here is typed by hand.
const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

const TOKEN = 'ghp_ingest_token_0123456789abcdef';
const SECRET = 'hook-secret-current';
const OLD_SECRET = 'hook-secret-previous';
const alice = { login: 'alice', id: 11, type: 'User' as const };

// Webhook deliveries from the GitHub fake to two gateway replicas, with the poller running:
// signed, recorded by their delivery id, queued on JetStream and turned into at most one active
// task per issue.
jest.setTimeout(90_000);

describe('GitHub webhook ingest', () => {
  let github: GitHubFake;
  let h: GatewayHarness;
  let second: RunningPlatform;
  let db: InstanceType<typeof pg.Client>;
  let projectId = '';
  let hookUrls: string[] = [];
  const problems: string[] = [];

  const counts = async () => {
    const deliveries = Number((await db.query('SELECT count(*)::int AS n FROM orchestrator.github_deliveries')).rows[0]?.['n']);
    const tasks = Number((await db.query('SELECT count(*)::int AS n FROM orchestrator.tasks')).rows[0]?.['n']);
    return { deliveries, tasks };
  };
  const tasksOf = async (): Promise<ApiResponse> => {
    const res = await h.api(`/api/projects/${projectId}/tasks`);
    problems.push(...h.contract.check('GET', `/api/projects/${projectId}/tasks`, res));
    return res;
  };
  const processed = async (deliveryId: string) => {
    const deadline = Date.now() + 15_000;
    const done = async () =>
      (await db.query('SELECT 1 FROM orchestrator.github_deliveries WHERE delivery_id = $1 AND processed_at IS NOT NULL', [deliveryId])).rows.length === 1;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`delivery ${deliveryId} was not processed within 15 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    // The current secret first, the one being rotated out second.
    const secrets = { GITHUB_WEBHOOK_SECRET: `${SECRET},${OLD_SECRET}` };
    // Polling runs throughout, every second, as the reconciler it is in production.
    // Tasks stay queued here: working them is tasks-work.test.ts's subject.
    h = await startGatewayHarness({
      name: 'tasks-ingest',
      redisDb: 12,
      services: ['gateway', 'orchestrator'],
      env: { ...secrets, TASK_POLL_INTERVAL_MS: '1000', TASK_WORKER_CONCURRENCY: '0' },
    });
    github = h.github;
    github.addRepo('acme', 'hooks');
    github.addToken(TOKEN, alice, { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' });
    // A second gateway replica on the same NATS, Postgres and Redis.
    second = await launchPlatform({
      root: REPO_ROOT,
      natsUrl: h.natsUrl,
      natsSeeds: h.natsSeeds,
      databaseUrl: h.databaseUrl,
      redisUrl: h.redisUrl,
      workspacesDir: join(h.dir, 'workspaces-2'),
      backupDir: join(h.dir, 'backups-2'),
      logDir: join(h.dir, 'logs-2'),
      services: ['gateway'],
      env: { ...secrets, GITHUB_API_URL: github.url, LOG_LEVEL: 'warn' },
    });
    hookUrls = [`${h.gateway}/api/github/webhook`, `${second.urls.gateway}/api/github/webhook`];
    h.key('ingest-team', 'admin');
    const created = await h.api('/api/projects', { method: 'POST', body: { repository: 'acme/hooks', auth: { kind: 'token', token: TOKEN } } });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    db = new pg.Client({ connectionString: h.databaseUrl });
    await db.connect();
  }, 180_000);

  afterAll(async () => {
    // The database outlives the suite: its queued tasks must not become a later suite's work.
    await db?.query(`UPDATE orchestrator.tasks SET status = 'cancelled' WHERE project_id = $1 AND status IN ('queued', 'running', 'awaiting_response')`, [
      projectId,
    ]);
    await db?.end();
    await second?.stop();
    await h?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('turns a labelled issue into one queued task with the priority of its labels', async () => {
    const n = github.createIssue('acme/hooks', { title: 'Add a footer', labels: ['high'], user: alice });
    const sent = await github.sendWebhook(hookUrls[0]!, 'issues', github.labelIssue('acme/hooks', n, 'overskill', alice), SECRET);
    expect(sent.status).toBe(202);
    expect(JSON.parse(sent.body)).toEqual({ deliveryId: sent.id, queued: true, duplicate: false });
    await processed(sent.id);
    const tasks = await tasksOf();
    expect(tasks.body.data).toEqual([
      expect.objectContaining({ issueNumber: n, title: 'Add a footer', status: 'queued', priority: 75, branch: `overskill/issue-${n}`, pendingFollowUps: 0 }),
    ]);
    const one = await h.api(`/api/tasks/${tasks.body.data[0].id}`);
    expect(one.body.issueNumber).toBe(n);
    const running = await h.api('/api/tasks/running');
    expect(running.body.data.map((t: { id: string }) => t.id)).toContain(tasks.body.data[0].id);
  });

  it('counts the same delivery sent 10 times concurrently to two replicas once, and a signature made with the previous secret too', async () => {
    const n = github.createIssue('acme/hooks', { title: 'Dark mode', user: alice });
    const payload = github.labelIssue('acme/hooks', n, 'overskill', alice);
    const id = randomUUID();
    const before = await counts();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => github.sendWebhook(hookUrls[i % 2]!, 'issues', payload, i === 3 ? OLD_SECRET : SECRET, { id })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(answers.filter((a) => !JSON.parse(a.body).duplicate)).toHaveLength(1);
    await processed(id);
    // A redelivery long after (GitHub's manual redelivery reuses the id): still nothing new.
    const later = await github.sendWebhook(hookUrls[1]!, 'issues', payload, SECRET, { id });
    expect(JSON.parse(later.body)).toMatchObject({ queued: false, duplicate: true });
    expect(await counts()).toEqual({ deliveries: before.deliveries + 1, tasks: before.tasks + 1 });
    expect((await tasksOf()).body.data.filter((t: { issueNumber: number }) => t.issueNumber === n)).toHaveLength(1);
  });

  it('keeps one active task per issue when the label comes again: nothing while queued, a follow-up once started', async () => {
    const n = github.createIssue('acme/hooks', { title: 'Fix login', user: alice });
    const trigger = async (i: number) =>
      (await github.sendWebhook(hookUrls[i % 2]!, 'issues', github.labelIssue('acme/hooks', n, 'overskill', alice), SECRET)).id;
    for (const id of await Promise.all([0, 1, 2].map(trigger))) await processed(id);
    let mine = (await tasksOf()).body.data.filter((t: { issueNumber: number }) => t.issueNumber === n);
    expect(mine).toHaveLength(1);
    expect(mine[0].pendingFollowUps).toBe(0);

    await db.query(`UPDATE orchestrator.tasks SET status = 'running' WHERE id = $1`, [mine[0].id]);
    for (const id of await Promise.all([3, 4].map(trigger))) await processed(id);
    mine = (await tasksOf()).body.data.filter((t: { issueNumber: number }) => t.issueNumber === n);
    expect(mine).toEqual([expect.objectContaining({ status: 'running', pendingFollowUps: 2 })]);
    // The same rule holds in the database itself: a second active task for the issue is refused.
    await expect(
      db.query(
        `INSERT INTO orchestrator.tasks (id, team_id, project_id, repository, issue_number, title, status, priority, branch, delivery_id)
         SELECT gen_random_uuid(), team_id, project_id, repository, issue_number, title, 'queued', priority, branch, 'manual' FROM orchestrator.tasks WHERE id = $1`,
        [mine[0].id],
      ),
    ).rejects.toThrow(/tasks_one_active_per_issue/);
  });

  it('polls: a labelled issue no webhook delivered becomes a task; unchanged lists cost no quota', async () => {
    const n = github.createIssue('acme/hooks', { title: 'Missed by the webhook', labels: ['overskill', 'urgent'], user: alice });
    const done = github.createIssue('acme/hooks', { title: 'Already answered', labels: ['overskill', 'completed'], user: alice });
    const deadline = Date.now() + 15_000;
    let mine: Array<{ issueNumber: number; priority: number }> = [];
    while (Date.now() < deadline && mine.length === 0) {
      mine = (await tasksOf()).body.data.filter((t: { issueNumber: number }) => t.issueNumber === n);
      if (mine.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(mine).toEqual([expect.objectContaining({ issueNumber: n, priority: 100 })]);
    const polls = () => github.calls.filter((c) => c.path.startsWith('/repos/acme/hooks/issues?'));
    const seen = polls().length;
    const quota = github.rateLimit('token:alice').remaining;
    while (polls().length < seen + 2) await new Promise((r) => setTimeout(r, 200));
    expect(
      polls()
        .slice(seen)
        .map((c) => c.status),
    ).toEqual([304, 304]);
    expect(github.rateLimit('token:alice').remaining).toBe(quota);
    expect((await tasksOf()).body.data.some((t: { issueNumber: number }) => t.issueNumber === done)).toBe(false);
  });

  it('exports the quota per account and waits to poll while it is low; exports the queue size', async () => {
    const metrics = async () => (await fetch(`${h.platform.urls.orchestrator}/metrics`)).text();
    const until = async (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const polls = () => github.calls.filter((c) => c.path.startsWith('/repos/acme/hooks/issues?')).length;
    github.setRateLimit('token:alice', 50, 6);
    await until('the metric shows 50 left', async () => /github_rate_limit_remaining\{[^}]*account="token:[0-9a-f]{12}"[^}]*\} 50\n/.test(await metrics()));
    const sent = polls();
    const n = github.createIssue('acme/hooks', { title: 'While quota is low', labels: ['overskill', 'low'], user: alice });
    await new Promise((r) => setTimeout(r, 2000));
    expect(polls()).toBe(sent);
    expect((await tasksOf()).body.data.some((t: { issueNumber: number }) => t.issueNumber === n)).toBe(false);
    // After the reset the poller goes on and finds the issue.
    await until('the task after the reset', async () =>
      (await tasksOf()).body.data.some((t: { issueNumber: number; priority: number }) => t.issueNumber === n && t.priority === 25),
    );
    const queued = Number(
      (await db.query(`SELECT count(*)::int AS n FROM orchestrator.tasks WHERE project_id = $1 AND status = 'queued'`, [projectId])).rows[0]?.['n'],
    );
    expect(await metrics()).toMatch(new RegExp(`task_queue_size\\{[^}]*project="${projectId}"[^}]*\\} ${queued}\\n`));
    expect(await metrics()).toMatch(/tasks_created_total\{[^}]*source="poll"[^}]*\} [1-9]/);
  });

  it('answers hostile or wrong deliveries with a clear 4xx and queues nothing', async () => {
    const n = github.createIssue('acme/hooks', { title: 'x', user: alice });
    const payload = github.labelIssue('acme/hooks', n, 'overskill', alice);
    // Only the payload says it is labelled: the poller must not see it either.
    github.issue('acme/hooks', n).labels = [];
    const before = await counts();
    const post = (headers: Record<string, string>, body: string | Buffer) =>
      fetch(hookUrls[0]!, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const signed = (body: string, event = 'issues', secret = SECRET) => ({
      'x-github-event': event,
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signWebhookBody(secret, body),
    });
    const body = JSON.stringify(payload);
    const expectError = async (res: Response, status: number, code: string) => {
      const text = await res.text();
      expect([res.status, JSON.parse(text).code]).toEqual([status, code]);
      expect(text).not.toContain('    at ');
    };

    await expectError(await post(signed(body, 'issues', 'wrong-secret'), body), 401, 'WEBHOOK_SIGNATURE_INVALID');
    await expectError(await post({ ...signed(body), 'x-hub-signature-256': 'sha256=abc' }, body), 401, 'WEBHOOK_SIGNATURE_INVALID');
    // Signed over different bytes than sent (whitespace changed): refused.
    await expectError(await post(signed(body), JSON.stringify(payload, null, 1)), 401, 'WEBHOOK_SIGNATURE_INVALID');
    const noDelivery: Record<string, string> = signed(body);
    delete noDelivery['x-github-delivery'];
    const missing = await post(noDelivery, body);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toContain('X-GitHub-Delivery');
    await expectError(await post(signed(body, 'deployment'), body), 400, 'WEBHOOK_EVENT_UNSUPPORTED');
    const other = JSON.stringify({ ...payload, repository: { ...(payload['repository'] as object), full_name: 'acme/unknown' } });
    await expectError(await post(signed(other), other), 404, 'WEBHOOK_REPOSITORY_UNKNOWN');
    const malformed = '{"action": "labeled", ';
    expect((await post(signed(malformed), malformed)).status).toBe(400);
    const shapeless = JSON.stringify({ action: 'labeled' });
    await expectError(await post(signed(shapeless), shapeless), 400, 'VALIDATION_FAILED');
    const huge = JSON.stringify({ ...payload, padding: 'x'.repeat(2 * 1024 * 1024) });
    expect((await post(signed(huge), huge)).status).toBe(413);
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    expect((await post(signed(ping, 'ping'), ping)).status).toBe(202);

    expect(await counts()).toEqual(before);
  });
});

import { fromBinary } from '@bufbuild/protobuf';
import { AppError, orchestratorV1, Rpc, runEventsSubject } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { AnthropicFake, launchPlatform, runAllMigrations, type FakeTurn, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { simpleGit } from 'simple-git';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const { RunStatus } = orchestratorV1;
const TINY = { input_tokens: 10, output_tokens: 10 };

jest.setTimeout(90_000);

// Stop conditions and dependency failures of the agent loop, end to end through the real
// ai-router (Anthropic SDK against the local fake), tool-runner and git-service.
describe('orchestrator runs: context, stop conditions, budgets, outages', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  let platform: RunningPlatform;
  let workspacesDir: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'orchestrator-runs');
    workspacesDir = join(dir, 'workspaces');
    const anthropicUrl = await anthropic.start();
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'ai-router', 'tool-runner', 'git-service'],
      env: {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: anthropicUrl,
        LOG_LEVEL: 'warn',
        RUN_RETRY_ATTEMPTS: '3',
        RUN_RETRY_BASE_MS: '100',
        RUN_RETRY_MAX_MS: '400',
        RUN_MODEL_TIMEOUT_MS: '4000',
        // Small budgets so a few fake turns reach them (priced by ai-router's table). ai-router
        // reserves the worst case (max_tokens of output) before each call: keep it under $0.08.
        RUN_COST_BUDGET_USD: '0.08',
        RUN_MAX_OUTPUT_TOKENS: '1024',
        TEAM_DAILY_COST_BUDGET_USD: '0.2',
      },
    });
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('orchestrator-runs-test'), 20_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await anthropic.stop();
  });

  beforeEach(() => anthropic.reset());

  const newApp = async (teamId = randomUUID(), template = 'empty') => ({
    teamId,
    app: await rpc.send(Rpc.appCreate, { teamId, name: 'Runs', description: 'A test app', template }),
  });
  const post = (teamId: string, appId: string, content: string) => rpc.send(Rpc.messagePost, { teamId, appId, content, authorId: 'u' });

  async function waitForRun(teamId: string, runId: string) {
    for (let i = 0; i < 900; i++) {
      const run = await rpc.send(Rpc.runGet, { teamId, runId });
      if ([RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not finish`);
  }

  const write = (path: string, content = `${path}\n`): FakeTurn => ({
    usage: TINY,
    stop_reason: 'tool_use',
    content: [{ type: 'tool_use', name: 'write_file', input: { path, content } }],
  });
  const done = (text = 'Done.'): FakeTurn => ({ usage: TINY, content: [{ type: 'text', text }] });

  it('builds the context from the app, its files, the conversation and the files touched this run', async () => {
    const { teamId, app } = await newApp();
    anthropic.script(write('index.html'), done('Added the page.'));
    const first = await post(teamId, app.id, 'Add a page');
    expect((await waitForRun(teamId, first.runId)).status).toBe(RunStatus.COMPLETED);

    anthropic.reset();
    anthropic.script(write('style.css'), done('Styled it.'));
    const second = await post(teamId, app.id, 'Style the page');
    expect((await waitForRun(teamId, second.runId)).status).toBe(RunStatus.COMPLETED);

    const [turn1, turn2] = anthropic.requests.map((r) => r.body);
    const system = (b: { system: unknown }) => JSON.stringify(b.system);
    expect(system(turn1)).toContain('App: Runs');
    expect(system(turn1)).toContain('Description: A test app');
    expect(system(turn1)).toContain('- index.html'); // committed by the first run
    expect(system(turn1)).not.toContain('Files you changed earlier in this run');
    expect(system(turn2)).toContain('Files you changed earlier in this run:\\n- style.css');
    // The earlier exchange precedes the request, as alternating turns.
    const texts = (turn1.messages as Array<{ role: string; content: unknown }>).map((m) => [m.role, JSON.stringify(m.content)]);
    expect(texts.map(([role]) => role)).toEqual(['user', 'assistant', 'user']);
    expect(texts[0]![1]).toContain('Add a page');
    expect(texts[1]![1]).toContain('Added the page.');
    expect(texts[2]![1]).toContain('Style the page');
    // One commit per turn, message from the request.
    const log = await simpleGit(join(workspacesDir, app.id)).log();
    expect(log.all.slice(0, 2).map((c) => c.message)).toEqual(['Style the page', 'Add a page']);
  });

  // How often git-service listed a working tree, from its own metrics.
  const treeListings = async () => {
    const text = await (await fetch(`${platform.urls['git-service']}/metrics`)).text();
    return [...text.matchAll(/^nats_handler_duration_seconds_count\{[^}]*subject="git\.worktree\.list\.v1"[^}]*\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  };

  it("shows a new app's files and those its runs create, listing the working tree again only when the ignore rules change", async () => {
    const listings = await treeListings();
    const { teamId, app } = await newApp();
    const run = async (content: string, ...turns: FakeTurn[]) => {
      anthropic.reset();
      anthropic.script(...turns);
      const posted = await post(teamId, app.id, content);
      expect((await waitForRun(teamId, posted.runId)).status).toBe(RunStatus.COMPLETED);
      return JSON.stringify(anthropic.requests[0]!.body.system);
    };
    // The template's files came with the app's creation.
    expect(await run('Ignore the build', write('.gitignore', 'dist/\n'), write('src/a.js'), write('dist/a.js'), done())).toContain('- README.md');
    expect(await treeListings()).toBe(listings);
    // The new .gitignore made the tree unknown: listed once.
    const second = await run('Add more', write('src/b.js'), write('dist/b.js'), done());
    expect(second).toContain('- src/a.js');
    expect(second).not.toContain('dist/a.js');
    expect(await treeListings()).toBe(listings + 1);
    // Files created since were added to it in place, as git would list them.
    const third = await run('Look', done());
    expect(third).toContain('- src/b.js');
    expect(third).toContain('- .gitignore');
    expect(third).not.toContain('dist/');
    expect(await treeListings()).toBe(listings + 1);
  });

  it('works one run of an app at a time, in the order the messages came', async () => {
    const { teamId, app } = await newApp();
    anthropic.script(write('a.txt'), done('Wrote A.'), write('b.txt'), done('Wrote B.'));
    // Both are queued before either runs; the replica takes both messages together.
    const first = await post(teamId, app.id, 'First: write A');
    const second = await post(teamId, app.id, 'Second: write B');
    const [run1, run2] = [await waitForRun(teamId, first.runId), await waitForRun(teamId, second.runId)];
    expect([run1.status, run2.status]).toEqual([RunStatus.COMPLETED, RunStatus.COMPLETED]);
    // The second started after the first finished, on the workspace the first one committed.
    expect(Date.parse(run2.steps[0]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(run1.finishedAt));
    expect(JSON.stringify(anthropic.requests[0]!.body.messages)).toContain('First: write A');
    expect(JSON.stringify(anthropic.requests[2]!.body.messages)).toContain('Second: write B');
    expect(JSON.stringify(anthropic.requests[2]!.body.system)).toContain('- a.txt');
    const log = await simpleGit(join(workspacesDir, app.id)).log();
    expect(log.all.slice(0, 2).map((c) => c.message)).toEqual(['Second: write B', 'First: write A']);
  });

  it('runs independent read-only calls of one turn together and returns every result in order', async () => {
    const { teamId, app } = await newApp();
    anthropic.script(
      write('a.txt', 'A'),
      write('b.txt', 'B'),
      {
        usage: TINY,
        stop_reason: 'tool_use',
        content: [
          { type: 'tool_use', id: 'toolu_read_a', name: 'read_file', input: { path: 'a.txt' } },
          { type: 'tool_use', id: 'toolu_read_b', name: 'read_file', input: { path: 'b.txt' } },
          { type: 'tool_use', id: 'toolu_read_missing', name: 'read_file', input: { path: 'nope.txt' } },
        ],
      },
      done(),
    );
    const { runId } = await post(teamId, app.id, 'Read both');
    expect((await waitForRun(teamId, runId)).status).toBe(RunStatus.COMPLETED);
    const results = (
      anthropic.requests[3]!.body.messages as Array<{
        role: string;
        content: Array<{ type: string; tool_use_id: string; content: unknown; is_error?: boolean }>;
      }>
    ).at(-1)!.content;
    expect(results.map((r) => r.tool_use_id)).toEqual(['toolu_read_a', 'toolu_read_b', 'toolu_read_missing']);
    expect(JSON.stringify(results[0]!.content)).toContain('A');
    expect(JSON.stringify(results[1]!.content)).toContain('B');
    expect(results[2]!.is_error).toBe(true);
  });

  it('stops at the app’s max iterations and keeps the work as a commit', async () => {
    const { teamId, app } = await newApp();
    await rpc.send(Rpc.appUpdate, { teamId, appId: app.id, maxIterations: 2 });
    anthropic.script(write('one.txt'), write('two.txt'), write('three.txt'));
    const { runId } = await post(teamId, app.id, 'Never stop');
    const run = await waitForRun(teamId, runId);
    expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: 'RUN_MAX_ITERATIONS', iterations: 2 });
    expect(run.errorMessage).toContain('limit for this app is 2');
    expect(anthropic.requests).toHaveLength(2);
    const repo = join(workspacesDir, app.id);
    expect(existsSync(join(repo, 'two.txt'))).toBe(true);
    expect((await simpleGit(repo).log()).latest?.hash).toBe(run.commitSha);
  });

  it('detects a loop, rolls the workspace back to the commit before it, and tells the user', async () => {
    const { teamId, app } = await newApp();
    const repo = join(workspacesDir, app.id);
    const base = (await simpleGit(repo).log()).latest!.hash;
    const again: FakeTurn = { usage: TINY, stop_reason: 'tool_use', content: [{ type: 'tool_use', name: 'read_file', input: { path: 'junk.txt' } }] };
    anthropic.script(write('junk.txt', 'half done'), again, again, again, again, again);
    const { runId } = await post(teamId, app.id, 'Fix the bug');
    const run = await waitForRun(teamId, runId);
    expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: 'RUN_LOOP_DETECTED' });
    expect(run.errorMessage).toContain('the same read_file call with the same input was repeated in 3 turns in a row');
    expect(run.steps.map((s) => s.kind)).toContain('rollback');
    expect(anthropic.requests).toHaveLength(4);

    // Back to the base tree, by new commits: the attempt is saved, then restored over.
    expect(existsSync(join(repo, 'junk.txt'))).toBe(false);
    const log = await simpleGit(repo).log();
    expect(log.latest?.hash).toBe(run.commitSha);
    expect(log.all.map((c) => c.hash)).toContain(base);
    expect(log.total).toBeGreaterThanOrEqual(3);
    expect(await simpleGit(repo).diff([base, 'HEAD'])).toBe('');
    const messages = await rpc.send(Rpc.messageList, { teamId, appId: app.id, pageSize: 1, pageToken: '' });
    expect(messages.messages[0]).toMatchObject({ role: 'assistant', runId });
    expect(messages.messages[0]!.content).toContain('I rolled the app back to how it was before this request');
  });

  describe('budgets', () => {
    const costly = (path: string): FakeTurn => ({ ...write(path), usage: { input_tokens: 40_000, output_tokens: 10 } });

    it('refuses a request whose estimate is over the run budget before calling the model', async () => {
      const { teamId, app } = await newApp();
      const { runId } = await post(teamId, app.id, `Summarise this:\n${'lorem ipsum '.repeat(8000)}`);
      const run = await waitForRun(teamId, runId);
      expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: 'RUN_BUDGET_EXCEEDED', iterations: 0 });
      expect(run.errorMessage).toContain('estimated');
      expect(anthropic.requests).toHaveLength(0);
    });

    it('stops a run at its cost budget, and a team at its daily budget', async () => {
      const teamId = randomUUID();
      for (let i = 0; i < 2; i++) {
        const { app } = await newApp(teamId);
        anthropic.script(costly(`costly-${i}.txt`), write('never.txt'));
        const { runId } = await post(teamId, app.id, `Spend ${i}`);
        const run = await waitForRun(teamId, runId);
        // 40k input tokens at $3/M = $0.12 ≥ the $0.08 run budget: stopped after one turn, work kept.
        expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: 'RUN_BUDGET_EXCEEDED', iterations: 1, inputTokens: 40_000n, outputTokens: 10n });
        expect(run.costUsd).toBeCloseTo(0.12015, 4);
        expect(existsSync(join(workspacesDir, app.id, `costly-${i}.txt`))).toBe(true);
        expect(existsSync(join(workspacesDir, app.id, 'never.txt'))).toBe(false);
        anthropic.reset();
      }
      // $0.24 spent today ≥ the team's $0.20: the next run does not start.
      const { app } = await newApp(teamId);
      const { runId } = await post(teamId, app.id, 'One more');
      const run = await waitForRun(teamId, runId);
      expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: 'RUN_BUDGET_EXCEEDED', iterations: 0 });
      expect(run.errorMessage).toContain('daily budget');
      expect(anthropic.requests).toHaveLength(0);
      // Another team is not affected.
      const other = await newApp();
      anthropic.script(done());
      const fine = await post(other.teamId, other.app.id, 'Hello');
      expect((await waitForRun(other.teamId, fine.runId)).status).toBe(RunStatus.COMPLETED);
    });
  });

  describe('dependencies unavailable', () => {
    it.each([
      ['tool-runner', 'RUN_TOOLS_UNAVAILABLE'],
      ['git-service', 'RUN_GIT_UNAVAILABLE'],
    ] as const)('fails with a code naming %s after retries', async (service, code) => {
      const { teamId, app } = await newApp();
      const repo = join(workspacesDir, app.id);
      const head = (await simpleGit(repo).log()).latest!.hash;
      await platform.stopService(service);
      // The tool catalog may come from the global cache level: the run then needs tool-runner
      // only when the model calls a tool.
      anthropic.script(write('needs-tools.txt'), done());
      try {
        const { runId } = await post(teamId, app.id, 'Do something');
        const run = await waitForRun(teamId, runId);
        expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: code });
        expect(run.errorMessage).toContain(`${service} was unavailable`);
      } finally {
        await platform.start(service);
      }
      expect((await simpleGit(repo).log()).latest?.hash).toBe(head);
      expect((await simpleGit(repo).status()).isClean()).toBe(true);
    });

    it('fails with RUN_AI_UNAVAILABLE when ai-router goes away mid-run, leaving the workspace at a commit with nothing half-written', async () => {
      const { teamId, app } = await newApp();
      const repo = join(workspacesDir, app.id);
      const base = (await simpleGit(repo).log()).latest!.hash;
      // The second model call hangs long enough for ai-router to be killed under it.
      anthropic.script(write('partial.txt'), { ...done(), delayMs: 10_000 });
      const sub = nc.subscribe(runEventsSubject('*'));
      const { runId } = await post(teamId, app.id, 'Two-step change');
      try {
        for await (const m of sub) {
          const event = fromBinary(orchestratorV1.RunEventSchema, m.data);
          if (event.runId === runId && event.kind === 'tool_call') break;
        }
        await platform.stopService('ai-router', 'SIGKILL');
        const run = await waitForRun(teamId, runId);
        expect(run).toMatchObject({ status: RunStatus.FAILED, errorCode: 'RUN_AI_UNAVAILABLE' });
        expect(run.errorMessage).toContain('ai-router was unavailable');
      } finally {
        sub.unsubscribe();
        await platform.start('ai-router');
      }
      // Restored to the base tree by a new commit; the partial work is kept in history.
      expect(existsSync(join(repo, 'partial.txt'))).toBe(false);
      expect((await simpleGit(repo).status()).isClean()).toBe(true);
      expect(await simpleGit(repo).diff([base, 'HEAD'])).toBe('');
      const saved = (await simpleGit(repo).log()).all.find((c) => commitHas(repo, c.hash, 'partial.txt'));
      expect(saved).toBeDefined();
    });
  });

  it('answers run requests for unknown ids and bad input with codes', async () => {
    const { teamId, app } = await newApp();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e instanceof AppError ? e.code : String(e)),
      );
    expect(await code(post(teamId, app.id, ''))).toBe('VALIDATION_FAILED');
    expect(await code(post(teamId, randomUUID(), 'hi'))).toBe('APP_NOT_FOUND');
    expect(await code(post(randomUUID(), app.id, 'hi'))).toBe('APP_NOT_FOUND');
    expect((await rpc.send(Rpc.runList, { teamId, appId: app.id, pageSize: 10, pageToken: '' })).runs).toEqual([]);
  });
});

// Whether a commit's tree holds a file.
function commitHas(repo: string, sha: string, path: string): boolean {
  return spawnSync('git', ['cat-file', '-e', `${sha}:${path}`], { cwd: repo }).status === 0;
}

import { fromBinary } from '@bufbuild/protobuf';
import { Events, orchestratorV1, Rpc, runEventsSubject, toolV1 } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  launchPlatform,
  runAllMigrations,
  startStack,
  type FakeTurn,
  type RecordedAnthropicRequest,
  type RunningPlatform,
  type RunningStack,
  stackNatsCredentials,
} from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { simpleGit } from 'simple-git';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const { RunStatus } = orchestratorV1;
const RUNS = 20;
const ROUNDS = 5;
const SEED = 20261122;

// Seeded: the same kill points every time the suite runs.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// "chaos run <i> steps=<n>": turn k writes step-k.txt (turn 2 also reads two files at once,
// which run concurrently), turn n ends the turn. Decided by the conversation alone, so a model
// call repeated after a crash gets the same answer.
function chaosModel(request: RecordedAnthropicRequest): FakeTurn {
  const messages = request.body.messages as Array<{ role: string; content: unknown }>;
  const hasText = (c: unknown) => typeof c === 'string' || (Array.isArray(c) && c.some((b: { type?: string }) => b.type === 'text'));
  let i = messages.length - 1;
  while (i > 0 && !(messages[i]?.role === 'user' && hasText(messages[i]?.content))) i--;
  const text = JSON.stringify(messages[i]?.content ?? '');
  const run = Number(/chaos run (\d+)/.exec(text)?.[1] ?? -1);
  const steps = Number(/steps=(\d+)/.exec(text)?.[1] ?? 1);
  const turn = (messages.length - i - 1) / 2; // assistant turns so far
  const delayMs = 30 + ((run * 31 + turn * 17) % 90);
  if (turn >= steps) return { delayMs, content: [{ type: 'text', text: `Run ${run} done.` }] };
  const write = { type: 'tool_use' as const, name: 'write_file', input: { path: `step-${turn}.txt`, content: `run ${run} step ${turn}\n` } };
  if (turn === 2) {
    return {
      delayMs,
      stop_reason: 'tool_use',
      content: [
        write,
        { type: 'tool_use', name: 'read_file', input: { path: 'step-0.txt' } },
        { type: 'tool_use', name: 'read_file', input: { path: 'step-1.txt' } },
      ],
    };
  }
  return { delayMs, stop_reason: 'tool_use', content: [write] };
}

jest.setTimeout(240_000);

// kill -9 an orchestrator replica at seeded random points while runs are in flight: the other
// replica (or the restarted one) takes each run over from its last checkpoint once the lease
// lapses and JetStream redelivers it. Every run must complete, and no tool call that was
// recorded may execute twice.
describe('chaos: orchestrator replicas killed mid-run', () => {
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  let stack: RunningStack;
  let deps: RunningPlatform;
  const replicas: RunningPlatform[] = [];
  let workspacesDir: string;
  let logsRoot = '';
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const executions = new Map<string, number>();
  // Read-only calls leave no intent and run again after a kill; they change nothing.
  const readOnlyCalls = new Set<string>();

  beforeAll(async () => {
    // Its own stack: the run consumer is created with this test's short ack wait.
    const dir = scratchDir(integrationStack().dataDir, 'orchestrator-chaos');
    logsRoot = dir;
    stack = await startStack({ dataDir: join(dir, 'stack') });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith(chaosModel);
    workspacesDir = join(dir, 'workspaces');
    const common = {
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: stack.databaseUrl,
      redisUrl: stack.redisUrl,
      workspacesDir,
      backupDir: join(dir, 'backups'),
    };
    deps = await launchPlatform({
      ...common,
      logDir: join(dir, 'logs'),
      services: ['ai-router', 'tool-runner', 'git-service'],
      // 20 runs of one team in about a minute: above the seed's 60 model calls a minute.
      env: {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: anthropicUrl,
        LOG_LEVEL: 'warn',
        AI_RATE_LIMIT_REQUESTS_PER_MINUTE: '100000',
        AI_RATE_LIMIT_TOKENS_PER_MINUTE: '1000000000',
      },
    });
    for (const name of ['a', 'b']) {
      replicas.push(
        await launchPlatform({
          ...common,
          logDir: join(dir, `logs-orchestrator-${name}`),
          services: ['orchestrator'],
          // Short clocks so takeover happens in seconds: JetStream redelivers after 3 s, a lease lapses after 2 s.
          env: { LOG_LEVEL: 'warn', RUN_ACK_WAIT_MS: '3000', RUN_LEASE_MS: '2000', RUN_CONCURRENCY: '4' },
        }),
      );
    }
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('orchestrator-chaos-test'), 20_000);
    // Every execution tool-runner reports, by tool_use id.
    const sub = nc.subscribe(Events.toolExecuted.subject);
    void (async () => {
      for await (const m of sub) {
        const fact = fromBinary(toolV1.ToolExecutedSchema, m.data);
        executions.set(fact.toolUseId, (executions.get(fact.toolUseId) ?? 0) + 1);
        if (fact.tool === 'read_file') readOnlyCalls.add(fact.toolUseId);
      }
    })();
    await nc.flush();
  }, 180_000);

  afterAll(async () => {
    // KEEP_LOGS=<dir> keeps the service logs of a failing run for a look afterwards.
    if (process.env.KEEP_LOGS)
      cpSync(logsRoot, process.env.KEEP_LOGS, { recursive: true, filter: (src: string) => !src.includes('/stack/') && !src.includes('/workspaces/') });
    await nc?.close();
    for (const r of replicas) await r.stop();
    await deps?.stop();
    await stack?.stop();
    await anthropic.stop();
  });

  async function waitForRuns(teamId: string, runIds: string[]) {
    const done = new Map<string, orchestratorV1.Run>();
    for (let i = 0; i < 1200 && done.size < runIds.length; i++) {
      for (const runId of runIds) {
        if (done.has(runId)) continue;
        // The replica answering may be the one being killed: ask again.
        const run = await rpc.send(Rpc.runGet, { teamId, runId }, { timeoutMs: 3000 }).catch(() => undefined);
        if (run && [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED].includes(run.status)) done.set(runId, run);
      }
      if (done.size < runIds.length) await new Promise((r) => setTimeout(r, 100));
    }
    return runIds.map((id) => done.get(id));
  }

  it(`completes ${RUNS} runs with replicas killed at random steps, executing no recorded tool call twice`, async () => {
    const random = mulberry32(SEED);
    const teamId = randomUUID();
    const results: Array<{ run: orchestratorV1.Run | undefined; appId: string; steps: number }> = [];
    let kills = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const perRound = RUNS / ROUNDS;
      const killAfterEvents = 3 + Math.floor(random() * 25);
      const victim = Math.floor(random() * 2);
      let seen = 0;
      // Armed once every run of the round is posted: a request to a dying replica is lost.
      let armed = false;
      let killed: Promise<void> | undefined;
      const roundRuns = new Set<string>();
      const sub = nc.subscribe(runEventsSubject('*'));
      void (async () => {
        for await (const m of sub) {
          const event = fromBinary(orchestratorV1.RunEventSchema, m.data);
          if (!armed || !roundRuns.has(event.runId)) continue;
          seen += 1;
          if (seen === killAfterEvents && !killed) {
            const replica = replicas[victim]!;
            killed = (async () => {
              await replica.stopService('orchestrator', 'SIGKILL');
              kills += 1;
              await replica.start('orchestrator');
            })();
          }
        }
      })();
      await nc.flush();

      const posted: Array<{ runId: string; appId: string; steps: number }> = [];
      for (let k = 0; k < perRound; k++) {
        const index = round * perRound + k;
        const steps = 3 + (index % 3);
        const app = await rpc.send(Rpc.appCreate, { teamId, name: `chaos ${index}`, description: '', template: 'empty' });
        const { runId } = await rpc.send(Rpc.messagePost, { teamId, appId: app.id, content: `chaos run ${index} steps=${steps}`, authorId: '' });
        roundRuns.add(runId);
        posted.push({ runId, appId: app.id, steps });
      }
      armed = true;
      const runs = await waitForRuns(
        teamId,
        posted.map((p) => p.runId),
      );
      sub.unsubscribe();
      await killed;
      posted.forEach((p, i) => results.push({ run: runs[i], appId: p.appId, steps: p.steps }));
    }

    // tool-runner publishes tool.executed after replying: let the last facts arrive.
    const recordedIds = new Set<string>();
    let inDoubt = 0;
    let resumes = 0;
    for (const { run } of results) {
      if (!run) continue;
      resumes += run.steps.filter((s) => s.kind === 'run_resumed').length;
      inDoubt += run.steps.filter((s) => s.kind === 'tool_call' && s.summary.includes('interrupted')).length;
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const id of executions.keys()) recordedIds.add(id);
    const duplicates = [...executions.entries()].filter(([id, n]) => n > 1 && !readOnlyCalls.has(id));
    const completed = results.filter((r) => r.run?.status === RunStatus.COMPLETED).length;
    const report = {
      runs: RUNS,
      completed,
      kills,
      resumes,
      toolExecutions: [...executions.values()].reduce((a, b) => a + b, 0),
      distinctToolCalls: recordedIds.size,
      duplicateSideEffects: duplicates.length,
      inDoubtCalls: inDoubt,
    };
    // The figures docs/orchestrator.md reports.
    console.log(`orchestrator chaos: ${JSON.stringify(report)}`);

    expect(results.map((r) => r.run?.status)).toEqual(results.map(() => RunStatus.COMPLETED));
    expect(duplicates).toEqual([]);
    expect(kills).toBe(ROUNDS);
    expect(resumes).toBeGreaterThan(0);

    // Each app ends at one commit holding what its run wrote (a call in doubt may be missing).
    for (const { run, appId, steps } of results) {
      const repo = join(workspacesDir, appId);
      const log = await simpleGit(repo).log();
      expect(log.latest?.hash).toBe(run?.commitSha);
      expect((await simpleGit(repo).status()).isClean()).toBe(true);
      const missing = [...Array(steps).keys()].filter((k) => !existsSync(join(repo, `step-${k}.txt`)));
      expect(missing.length).toBeLessThanOrEqual(inDoubt);
      for (let k = 0; k < steps; k++) {
        if (existsSync(join(repo, `step-${k}.txt`))) expect(readFileSync(join(repo, `step-${k}.txt`), 'utf8')).toMatch(/^run \d+ step \d+\n$/);
      }
    }
  });
});

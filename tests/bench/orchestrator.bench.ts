import { fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { aiV1, orchestratorV1, Rpc, runEventsSubject } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  launchPlatform,
  runAllMigrations,
  type FakeTurn,
  type RecordedAnthropicRequest,
  type RunningPlatform,
  stackNatsCredentials,
} from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult } from './support/results';
import { profileClockUs, readProfiles, summarizeProfile } from './support/cpu-profile';
import { cpuPerUnitMs, cpuSnapshot, meanOf, splitPerRun, stackServerPids } from './support/process-cpu';
import { measureDurableFloor } from './support/orchestrator-floor';
import { median, percentile, ratio, round } from './support/stats';

// 1. Orchestration overhead per step: runs of 10 steps against a zero-latency fake model and
//    a near no-op tool (read_file of a 12-byte file), one run at a time. Per step:
//    (time between two model checkpoints) − (time the orchestrator waited for ai-router),
//    i.e. everything but the model: tool call, checkpoints (lease-fenced), budget check,
//    context. Baseline, same run: the bench process making the same two calls back to back
//    with nothing persisted (the transport floor). Goal: median < 3 ms (the first goal was 5 ms).
// 2. 100 concurrent runs × 10 steps against a fake answering after 50 ms, on 2 orchestrator
//    replicas: wall time from posting to the last final event vs the ideal 10 × 50 ms.
//    Goal: ≤ 1.5 s (3× the ideal; the first goal was 1.5× the ideal), every run completed. A
//    first burst of the same runs goes before, untimed for the goal (its figures are printed):
//    the timed bursts find the pools, sockets and compiled code of a platform already running.
//    Three timed bursts, each on new apps, scored at the median wall; CPU is their mean.
//    Baseline, same run: 100 loops in the bench process making the same two calls per step
//    concurrently, nothing persisted (as many bursts, the median wall): what the ai-router and
//    tool-runner calls alone cost the machine, so the wall and CPU that no orchestration of these
//    services can go below.
// The floor of a durable step, same run: one checkpoint-sized row committed from a bare `pg`
// client (waiting for the WAL flush) and one JetStream publish with its ack; and the CPU of a
// fenced commit with many writers at once, alone and as a share of a statement of several rows,
// the cheaper of which the concurrent baseline adds once per step.
// Benchmarks report; they fail only on a functional error.

const STEPS = 10;
const OVERHEAD_RUNS = Number(process.env.BENCH_ORCH_OVERHEAD_RUNS ?? 20);
const CONCURRENT_RUNS = Number(process.env.BENCH_ORCH_CONCURRENT_RUNS ?? 100);
// Bursts of shorter runs separate what a run costs once from what each of its steps costs.
const SHORT_STEPS = 2;
const LATENCY_MS = 50;
const GOAL_OVERHEAD_MS = 3;
const FLOOR_SAMPLES = Number(process.env.BENCH_ORCH_FLOOR_SAMPLES ?? 300);
const GOAL_WALL_MS = 1500;
// The goal's case is timed this many times, each on new apps, and scored at the median: on this
// machine the same burst, repeated at once, spread over 1.38–1.91 s.
const TIMED_BURSTS = Math.max(1, Number(process.env.BENCH_ORCH_TIMED_BURSTS ?? 3));
// The orchestrator's default RUN_COST_BUDGET_USD: its runs' calls carry it, so the bare calls do.
const RUN_BUDGET_USD = 5;
// BENCH_CPU_PROFILE=1: ai-router and one orchestrator replica run under V8's sampling profiler
// (figures then carry its cost); where their CPU went in the concurrent phase is printed.
const PROFILE = process.env.BENCH_CPU_PROFILE === '1';
// BENCH_CPU_PROFILE_PHASE=steps|bare|short: the profiles' window is the one-at-a-time step series,
// the concurrent bare calls, or the first burst of short runs (what a run costs once), instead.
const PROFILE_PHASE = process.env.BENCH_CPU_PROFILE_PHASE;

interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };

// "bench latency=<ms> [steps=<n>] …": turn k < n − 1 reads a tiny file (with " write " in the
// message, writes one); then the turn ends (n: STEPS unless given). Tiny usage, so budgets never
// interfere. When the first message says "concurrent", the request's arrival is noted in `arrivals`.
function benchModel(request: RecordedAnthropicRequest, arrivals: number[]): FakeTurn {
  const messages = request.body.messages as Array<{ role: string }>;
  const turn = (messages.length - 1) / 2;
  const first = JSON.stringify(messages[0]);
  if (first.includes('concurrent')) arrivals.push(request.receivedAt);
  const latency = Number(/latency=(\d+)/.exec(first)?.[1] ?? 0);
  const steps = Number(/steps=(\d+)/.exec(first)?.[1] ?? STEPS);
  const usage = { input_tokens: 10, output_tokens: 10 };
  if (turn >= steps - 1) return { delayMs: latency, usage, content: [{ type: 'text', text: 'Done.' }] };
  // "write": each turn writes a small file of its own instead (an intent, the write, its result).
  const call = / write /.test(first)
    ? { name: 'write_file', input: { path: `out-${turn}.txt`, content: `turn ${turn}\n` } }
    : { name: 'read_file', input: { path: 'note.txt' } };
  return { delayMs: latency, usage, stop_reason: 'tool_use', content: [{ type: 'tool_use', ...call }] };
}

// "name value, name value, …" of a record of figures, leaving out `except`.
function listed(figures: Record<string, number>, except?: string): string {
  return Object.entries(figures)
    .filter(([k]) => k !== except)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

describe('benchmark: orchestrator', () => {
  const stack = integrationStack();
  // Only the last request is kept (the runs' system prompt is read from it): the thousands of this
  // bench, each with the tool catalog, would otherwise pile up in this process's heap.
  const anthropic = new AnthropicFake({ apiKey: 'bench-key', keepRequests: 1 });
  // When each model call of the concurrent bursts reached the fake.
  const concurrentArrivals: number[] = [];
  let deps: RunningPlatform;
  const replicas: RunningPlatform[] = [];
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let profileDir = '';

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'bench-orchestrator');
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith((request) => benchModel(request, concurrentArrivals));
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const common = { root: REPO_ROOT, ...stack, workspacesDir: join(dir, 'workspaces'), backupDir: join(dir, 'backups') };
    profileDir = join(dir, 'profiles');
    const profiled = (name: string): Record<string, string> =>
      PROFILE
        ? {
            NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'support', 'cpu-profile-preload.js')}`.trim(),
            BENCH_CPU_PROFILE_DIR: join(profileDir, name),
          }
        : {};
    deps = await launchPlatform({
      ...common,
      logDir: join(dir, 'logs'),
      services: ['ai-router', 'tool-runner', 'git-service'],
      env: {
        ANTHROPIC_API_KEY: 'bench-key',
        ANTHROPIC_BASE_URL: anthropicUrl,
        LOG_LEVEL: 'warn',
        AI_RATE_LIMIT_REQUESTS_PER_MINUTE: '100000000',
        AI_RATE_LIMIT_TOKENS_PER_MINUTE: '100000000000',
        ...profiled('deps'),
      },
    });
    for (const name of ['a', 'b']) {
      replicas.push(
        await launchPlatform({
          ...common,
          logDir: join(dir, `logs-${name}`),
          services: ['orchestrator'],
          // 64 in flight each: 100 runs fit on two replicas. A read-only loop of 10 turns is
          // the benchmark's workload, not a stuck agent. The preview check after the commit (a
          // Chromium page load per run, ~0.4 s of CPU) is preview.bench.ts's subject, not this one's.
          env: {
            LOG_LEVEL: 'warn',
            RUN_CONCURRENCY: '64',
            RUN_LOOP_IDLE_TURNS: '100',
            RUN_LOOP_REPEAT_TURNS: '50',
            PREVIEW_CHECK: 'off',
            ...(name === 'a' ? profiled('orchestrator') : {}),
          },
        }),
      );
    }
    nc = await connectNats(stack.natsUrl, 'bench-orchestrator', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('bench-orchestrator'), 60_000);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    for (const r of replicas) await r.stop();
    await deps?.stop();
    await anthropic.stop();
  });

  // `count` new apps of the team, one after another.
  async function appsWithNote(teamId: string, count: number): Promise<string[]> {
    const apps: string[] = [];
    for (let i = 0; i < count; i++) apps.push(await appWithNote(teamId));
    return apps;
  }

  async function appWithNote(teamId: string): Promise<string> {
    const app = await rpc.send(Rpc.appCreate, { teamId, name: 'bench', description: '', template: 'empty' });
    await rpc.send(Rpc.toolCallExecute, {
      teamId,
      appId: app.id,
      runId: '',
      toolUseId: 'setup',
      name: 'write_file',
      inputJson: JSON.stringify({ path: 'note.txt', content: 'hello bench\n' }),
    });
    return app.id;
  }

  // Sum and count of a histogram's series whose labels contain `labelPart`, over processes.
  async function histogram(urls: Array<string | undefined>, metric: string, labelPart: string): Promise<{ sum: number; count: number }> {
    const total = { sum: 0, count: 0 };
    for (const url of urls) {
      if (!url) continue;
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const m of text.matchAll(new RegExp(`^${metric}_(sum|count)(?:\\{([^}]*)\\})? ([\\d.e+-]+)$`, 'gm'))) {
        if (!(m[2] ?? '').includes(labelPart)) continue;
        if (m[1] === 'sum') total.sum += Number(m[3]);
        else total.count += Number(m[3]);
      }
    }
    return total;
  }

  // Checkpoints written so far and the statements that wrote them, over both replicas.
  function checkpointStatements(): Promise<{ sum: number; count: number }> {
    return histogram(
      replicas.map((r) => r.urls.orchestrator),
      'run_checkpoints_per_statement',
      '',
    );
  }

  function statementsBetween(before: { sum: number; count: number }, after: { sum: number; count: number }): { checkpoints: number; statements: number } {
    return { checkpoints: after.sum - before.sum, statements: after.count - before.count };
  }

  // The posted runs that did not complete (or completed without a commit, when one is wanted), described.
  async function notCompleted(teamId: string, posted: Array<{ runId: string }>, withCommit = false): Promise<string[]> {
    const missing: string[] = [];
    for (const p of posted) {
      const run = await rpc.send(Rpc.runGet, { teamId, runId: p.runId });
      if (run.status === orchestratorV1.RunStatus.COMPLETED && (!withCommit || run.commitSha !== '')) continue;
      missing.push(
        `${run.id}: ${orchestratorV1.RunStatus[run.status]} ${run.errorCode} ${run.errorMessage}${withCommit && !run.commitSha ? ' (no commit)' : ''}`,
      );
    }
    return missing;
  }

  // Where a model call's time goes, as means over a phase: the loop's wait (orchestrator's RPC),
  // the router's handler, and the provider call inside it (the fake answers after LATENCY_MS).
  async function modelCallPath(): Promise<Record<string, { sum: number; count: number }>> {
    const orchestrators = replicas.map((r) => r.urls.orchestrator);
    return {
      rpc: await histogram(orchestrators, 'nats_request_duration_seconds', 'ai.completion.create'),
      handler: await histogram([deps.urls['ai-router']], 'nats_handler_duration_seconds', 'ai.completion.create'),
      provider: await histogram([deps.urls['ai-router']], 'ai_request_duration_seconds', 'outcome="ok"'),
    };
  }

  // A step's parts as the replicas measure them: each checkpoint kind (write + publish), and the
  // loop's two calls (its RPCs to tool-runner and ai-router).
  async function stepParts(): Promise<Record<string, { sum: number; count: number }>> {
    const orchestrators = replicas.map((r) => r.urls.orchestrator);
    return {
      modelCheckpoint: await histogram(orchestrators, 'run_checkpoint_duration_seconds', 'kind="model_call"'),
      toolCheckpoint: await histogram(orchestrators, 'run_checkpoint_duration_seconds', 'kind="tool_call"'),
      toolRpc: await histogram(orchestrators, 'nats_request_duration_seconds', 'tool.call.execute'),
      toolHandler: await histogram([deps.urls['tool-runner']], 'nats_handler_duration_seconds', 'tool.call.execute'),
      modelRpc: await histogram(orchestrators, 'nats_request_duration_seconds', 'ai.completion.create'),
    };
  }

  // Resolves when every run has published its final event; the wall time ends there.
  function finalEvents(runIds: () => Set<string>): { done: Promise<number>; stop: () => void } {
    const finished = new Set<string>();
    const sub = nc.subscribe(runEventsSubject('*'));
    const done = (async () => {
      for await (const m of sub) {
        const e = fromBinary(orchestratorV1.RunEventSchema, m.data);
        if (
          [orchestratorV1.RunStatus.COMPLETED, orchestratorV1.RunStatus.FAILED, orchestratorV1.RunStatus.CANCELLED].includes(e.status) &&
          runIds().has(e.runId)
        ) {
          finished.add(e.runId);
          if (finished.size === runIds().size) return performance.now();
        }
      }
      return performance.now();
    })();
    return { done, stop: () => sub.unsubscribe() };
  }

  // Posts one run per app at once, the i-th saying `content(i)`; resolves with the runs once each
  // has published its final event.
  async function burst(teamId: string, apps: string[], content: (i: number) => string): Promise<{ posted: Array<{ runId: string }>; wallMs: number }> {
    const ids = new Set<string>();
    const waiter = finalEvents(() => ids);
    await nc.flush();
    const started = performance.now();
    const posted = await Promise.all(apps.map((id, i) => rpc.send(Rpc.messagePost, { teamId, appId: id, content: content(i), authorId: '' })));
    for (const p of posted) ids.add(p.runId);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([waiter.done, new Promise<number>((r) => (timer = setTimeout(() => r(Number.NaN), 600_000)))]);
    clearTimeout(timer);
    waiter.stop();
    return { posted, wallMs: ended - started };
  }

  it('measures per-step overhead and 100 concurrent runs on 2 replicas', async () => {
    const machine = machineInfo();
    const startedAt = new Date().toISOString();
    const teamId = randomUUID();

    // --- 1. overhead per step, one run at a time
    const overheadRunIds: string[] = [];
    const partsBefore = await stepParts();
    const stepsStartUs = profileClockUs();
    for (let i = 0; i < OVERHEAD_RUNS; i++) {
      const { posted } = await burst(teamId, [await appWithNote(teamId)], () => `bench latency=0 run ${i}`);
      overheadRunIds.push(...posted.map((p) => p.runId));
    }
    const stepsEndUs = profileClockUs();
    const partsAfter = await stepParts();
    // Where a step's time goes, means over phase 1 from the replicas' own histograms.
    const breakdown = Object.fromEntries(
      Object.keys(partsAfter).map((k) => {
        const count = partsAfter[k]!.count - partsBefore[k]!.count;
        return [k, { meanMs: round(((partsAfter[k]!.sum - partsBefore[k]!.sum) / Math.max(1, count)) * 1000, 3), count }];
      }),
    );
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    const { rows } = await client.query(
      `SELECT r.id, r.status, extract(epoch from r.started_at) * 1000 AS started, extract(epoch from r.finished_at) * 1000 AS finished, s.seq, s.kind,
              extract(epoch from s.created_at) * 1000 AS at, (s.data->>'modelMs')::float AS model_ms
         FROM orchestrator.runs r JOIN orchestrator.run_steps s ON s.run_id = r.id WHERE r.id = ANY($1) ORDER BY r.id, s.seq`,
      [overheadRunIds],
    );
    // A model checkpoint's data as written in this run: the floor's row carries the same bytes.
    const sample = await client.query(`SELECT data::text AS data FROM orchestrator.run_steps WHERE run_id = $1 AND kind = 'model_call' ORDER BY seq LIMIT 1`, [
      overheadRunIds[0],
    ]);
    await client.end();
    const floor = await measureDurableFloor({
      stack,
      payload: String(sample.rows[0]?.['data'] ?? '{}'),
      samples: FLOOR_SAMPLES,
      postgresPid: stackServerPids()['postgres'],
    });
    const perStep: number[] = [];
    const perRun: number[] = [];
    const wholeStep: number[] = [];
    const toResult: number[] = [];
    const resultToReply: number[] = [];
    // A lone run's start: from its claim to its run_started checkpoint, and to its first reply's (model wait excluded).
    const claimToStarted: number[] = [];
    const claimToReply: number[] = [];
    const byRun = new Map<string, typeof rows>();
    for (const row of rows) byRun.set(String(row['id']), [...(byRun.get(String(row['id'])) ?? []), row]);
    for (const steps of byRun.values()) {
      expect(steps[0]?.['status']).toBe('completed');
      const modelSteps = steps.filter((s) => s['kind'] === 'model_call');
      expect(modelSteps).toHaveLength(STEPS);
      let previous = Number(steps.find((s) => s['kind'] === 'run_started')?.['at']);
      claimToStarted.push(previous - Number(steps[0]?.['started']));
      claimToReply.push(Number(modelSteps[0]?.['at']) - Number(modelSteps[0]?.['model_ms']) - Number(steps[0]?.['started']));
      for (const [k, s] of modelSteps.entries()) {
        perStep.push(Number(s['at']) - previous - Number(s['model_ms']));
        // The whole step, model call included: work overlapping the model call shows here too.
        if (k > 0) wholeStep.push(Number(s['at']) - previous);
        previous = Number(s['at']);
      }
      // The step split at its tool result's checkpoint: reply written ∥ read → result; result → next reply − model wait.
      for (const [i, s] of steps.entries()) {
        const next = steps[i + 1];
        const after = steps.slice(i + 2).find((x) => x['kind'] === 'model_call');
        if (s['kind'] !== 'model_call' || next?.['kind'] !== 'tool_call' || !after) continue;
        toResult.push(Number(next['at']) - Number(s['at']));
        resultToReply.push(Number(after['at']) - Number(next['at']) - Number(after['model_ms']));
      }
      const modelTotal = modelSteps.reduce((sum, s) => sum + Number(s['model_ms']), 0);
      perRun.push((Number(steps[0]?.['finished']) - Number(steps[0]?.['started']) - modelTotal) / STEPS);
    }

    // Of that, the checkpoints themselves (write + publish), from the replicas' own histogram.
    let checkpointSeconds = 0;
    let checkpoints = 0;
    for (const r of replicas) {
      const text = await (await fetch(`${r.urls.orchestrator}/metrics`)).text();
      for (const m of text.matchAll(/^run_checkpoint_duration_seconds_(sum|count)\{[^}]*\} ([\d.e+-]+)$/gm)) {
        if (m[1] === 'sum') checkpointSeconds += Number(m[2]);
        else checkpoints += Number(m[2]);
      }
    }
    const checkpointMeanMs = checkpoints > 0 ? round((checkpointSeconds / checkpoints) * 1000, 2) : Number.NaN;

    // Same run baseline: the two calls of a step, straight from here, nothing persisted.
    const appId = await appWithNote(teamId);
    const catalog = await rpc.send(Rpc.toolCatalogList, {});
    const tools = catalog.tools.map((t) => ({ name: t.name, description: t.description, inputSchemaJson: t.inputSchemaJson }));
    // The runs' own system prompt, as the fake received it: the bare calls send the same requests.
    const systemBlock = anthropic.requests.at(-1)?.body.system as Array<{ text: string }> | undefined;
    const system = systemBlock?.[0]?.text ?? '';
    expect(system).not.toBe('');
    const baseline: number[] = [];
    const baselineWhole: number[] = [];
    const baselineProcesses = { ...stackServerPids(), 'ai-router': deps.pids()['ai-router'], 'tool-runner': deps.pids()['tool-runner'] };
    // A run's two calls per step, straight from here, nothing persisted; onStep gets the step's
    // time and the model call's share of it.
    const bareRun = async (appId: string, text: string, onStep?: (stepMs: number, modelMs: number) => void, steps = STEPS): Promise<void> => {
      const runId = randomUUID();
      const conversation: Array<MessageInitShape<typeof aiV1.ChatMessageSchema>> = [
        { role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text } } }] },
      ];
      for (let k = 0; k < steps; k++) {
        const started = performance.now();
        const completion = await rpc.send(Rpc.aiCompletionCreate, {
          teamId,
          appId,
          runId,
          modelAlias: 'primary',
          system,
          messages: conversation,
          tools,
          maxTokens: 8192,
          runBudgetUsd: RUN_BUDGET_USD,
        });
        const modelMs = performance.now() - started;
        const use = completion.content.find((b) => b.block.case === 'toolUse')?.block.value as { id: string; name: string; inputJson: string } | undefined;
        conversation.push({ role: aiV1.Role.ASSISTANT, content: completion.content });
        if (use) {
          const result = await rpc.send(Rpc.toolCallExecute, { teamId, appId, runId: '', toolUseId: use.id, name: use.name, inputJson: use.inputJson });
          conversation.push({
            role: aiV1.Role.USER,
            content: [{ block: { case: 'toolResult', value: { toolUseId: use.id, content: result.output, isError: result.isError } } }],
          });
        }
        onStep?.(performance.now() - started, modelMs);
      }
    };
    const baselineCpuBefore = cpuSnapshot(baselineProcesses);
    for (let i = 0; i < OVERHEAD_RUNS; i++) {
      await bareRun(appId, `bench latency=0 baseline ${i}`, (stepMs, modelMs) => {
        baseline.push(stepMs - modelMs);
        baselineWhole.push(stepMs);
      });
    }

    // The floor of any orchestration: what the two calls alone cost every process, per step.
    const baselineCpuPerStep = cpuPerUnitMs(baselineCpuBefore, cpuSnapshot(baselineProcesses), OVERHEAD_RUNS * STEPS);

    // --- 2. 100 concurrent runs × 10 steps, 50 ms model latency, 2 replicas
    // CPU of every process over the concurrent phase, per model step: on 2 cores, the sum sets
    // the floor of the wall time (steps × CPU per step / 2).
    const processes = {
      ...stackServerPids(),
      'ai-router': deps.pids()['ai-router'],
      'tool-runner': deps.pids()['tool-runner'],
      'git-service': deps.pids()['git-service'],
      'orchestrator-a': replicas[0]?.pids().orchestrator,
      'orchestrator-b': replicas[1]?.pids().orchestrator,
    };
    // A first burst of the same runs on apps of their own, untimed for the goal: the services'
    // connection pools, sockets and compiled code grow to what a running platform has.
    const coldApps = await appsWithNote(teamId, CONCURRENT_RUNS);
    const coldCpuBefore = cpuSnapshot(processes);
    const first = await burst(teamId, coldApps, (i) => `bench latency=${LATENCY_MS} first burst ${i}`);
    const cold = { wallMs: round(first.wallMs, 0), cpuPerStepMs: cpuPerUnitMs(coldCpuBefore, cpuSnapshot(processes), CONCURRENT_RUNS * STEPS) };

    // Bursts of SHORT_STEPS-step runs on new apps (and the same as bare calls), one before and one
    // after their long counterparts, averaged: the services still get cheaper as they warm, and
    // that drift would otherwise pass for a run's once-only cost.
    // The profile's window for BENCH_CPU_PROFILE_PHASE=short: the first burst of short runs.
    const shortWindow = { windowStartUs: 0, windowEndUs: 0 };
    const shortRuns = async (label: string) => {
      const shortApps = await appsWithNote(teamId, CONCURRENT_RUNS);
      const before = cpuSnapshot(processes);
      const startUs = profileClockUs();
      const { wallMs: shortWallMs } = await burst(teamId, shortApps, (i) => `bench latency=${LATENCY_MS} steps=${SHORT_STEPS} short ${label} ${i}`);
      if (!shortWindow.windowEndUs) Object.assign(shortWindow, { windowStartUs: startUs, windowEndUs: profileClockUs() });
      return { apps: shortApps, wallMs: shortWallMs, cpuPerStepMs: cpuPerUnitMs(before, cpuSnapshot(processes), CONCURRENT_RUNS * SHORT_STEPS) };
    };
    const shortBare = async (shortApps: string[], label: string) => {
      const before = cpuSnapshot(processes);
      await Promise.all(
        shortApps.map((id, i) => bareRun(id, `bench latency=${LATENCY_MS} steps=${SHORT_STEPS} short bare ${label} ${i}`, undefined, SHORT_STEPS)),
      );
      return cpuPerUnitMs(before, cpuSnapshot(processes), CONCURRENT_RUNS * SHORT_STEPS);
    };
    const shortBefore = await shortRuns('before');
    // TIMED_BURSTS bursts of the ten-step case: `prepare` runs before each, outside its CPU; `run`
    // answers its wall. The median wall, the mean CPU per step, each wall, and the first burst's
    // window (the profile's).
    const timedBursts = async (run: (b: number) => Promise<number>, prepare: () => Promise<void> = async () => undefined) => {
      const walls: number[] = [];
      const cpus: Array<Record<string, number>> = [];
      const window = { windowStartUs: 0, windowEndUs: 0 };
      for (let b = 0; b < TIMED_BURSTS; b++) {
        await prepare();
        const before = cpuSnapshot(processes);
        const startUs = profileClockUs();
        walls.push(await run(b));
        cpus.push(cpuPerUnitMs(before, cpuSnapshot(processes), CONCURRENT_RUNS * STEPS));
        if (b === 0) Object.assign(window, { windowStartUs: startUs, windowEndUs: profileClockUs() });
      }
      return { wallMs: median(walls), wallsMs: walls.map((w) => round(w, 0)), cpuPerStepMs: meanOf(...cpus), window };
    };

    const pathBefore = await modelCallPath();
    const statementsBefore = await checkpointStatements();
    const fakeBefore = anthropic.received;
    // The timed bursts, each on apps of its own made before it.
    const postedByBurst: Array<Array<{ runId: string }>> = [];
    let apps: string[] = [];
    const timed = await timedBursts(
      async (b) => {
        // 'concurrent' in the first message marks these bursts' model calls at the fake.
        const one = await burst(teamId, apps, (i) => `bench latency=${LATENCY_MS} concurrent ${b} ${i}`);
        postedByBurst.push(one.posted);
        return one.wallMs;
      },
      async () => {
        apps = await appsWithNote(teamId, CONCURRENT_RUNS);
      },
    );
    const { wallMs, cpuPerStepMs: cpuPerStep } = timed;
    const posted = postedByBurst.flat();
    const pathAfter = await modelCallPath();
    // Checkpoints of several runs asked for in one turn share a statement.
    const burstStatements = statementsBetween(statementsBefore, await checkpointStatements());
    const meanMs = (k: string) => round(((pathAfter[k]!.sum - pathBefore[k]!.sum) / Math.max(1, pathAfter[k]!.count - pathBefore[k]!.count)) * 1000, 1);
    const count = (k: string) => pathAfter[k]!.count - pathBefore[k]!.count;
    const modelPath = {
      rpcMeanMs: meanMs('rpc'),
      handlerMeanMs: meanMs('handler'),
      providerMeanMs: meanMs('provider'),
      fakeMs: LATENCY_MS,
      calls: { rpc: count('rpc'), handler: count('handler'), provider: count('provider'), fake: anthropic.received - fakeBefore },
    };
    const missing = await notCompleted(teamId, posted);
    const completed = posted.length - missing.length;
    if (missing.length > 0) print(`not completed:\n${missing.join('\n')}`);
    const idealMs = STEPS * LATENCY_MS;
    // Where the time went: model calls in flight at the fake, and the wait the loop saw per call.
    const peakInFlight = Math.max(...concurrentArrivals.map((t) => concurrentArrivals.filter((u) => u >= t - LATENCY_MS && u <= t).length));
    const waits = new pg.Client({ connectionString: stack.databaseUrl });
    await waits.connect();
    const waitRows = await waits.query(
      `SELECT (s.data->>'modelMs')::float AS ms FROM orchestrator.run_steps s WHERE s.run_id = ANY($1) AND s.kind = 'model_call'`,
      [posted.map((p) => p.runId)],
    );
    // Where each burst's wall went, run by run, from its first post: when the runs were stored,
    // claimed, had their first model reply written, and finished (the first, median and last run).
    const timelines: string[] = [];
    for (const burstRuns of postedByBurst) {
      const { rows: stamps } = await waits.query(
        `SELECT extract(epoch from r.created_at) * 1000 AS stored, extract(epoch from r.started_at) * 1000 AS claimed,
                (SELECT extract(epoch from min(s.created_at)) * 1000 FROM orchestrator.run_steps s WHERE s.run_id = r.id AND s.kind = 'model_call') AS replied,
                extract(epoch from r.finished_at) * 1000 AS finished
           FROM orchestrator.runs r WHERE r.id = ANY($1)`,
        [burstRuns.map((p) => p.runId)],
      );
      const origin = Math.min(...stamps.map((r) => Number(r['stored'])));
      const spread = (k: string) => {
        const at = stamps.map((r) => Number(r[k]) - origin).sort((a, b) => a - b);
        return `${round(at[0]!, 0)} / ${round(median(at), 0)} / ${round(at.at(-1)!, 0)}`;
      };
      timelines.push(`stored ${spread('stored')}, claimed ${spread('claimed')}, first reply written ${spread('replied')}, finished ${spread('finished')}`);
    }
    await waits.end();
    const modelWaits = waitRows.rows.map((r) => Number(r['ms']));

    const shortAfter = await shortRuns('after');
    const shortBareBefore = await shortBare(shortAfter.apps, 'before');

    // Same run baseline at the same concurrency: the runs' calls alone, no orchestrator between.
    // As many bursts as the runs had, on the last of their apps.
    const bareTimed = await timedBursts(async (b) => {
      const started = performance.now();
      await Promise.all(apps.map((id, i) => bareRun(id, `bench latency=${LATENCY_MS} bare ${b} ${i}`)));
      return performance.now() - started;
    });
    const { wallMs: bareWallMs, cpuPerStepMs: bareCpuPerStep } = bareTimed;

    const shortBareAfter = await shortBare(shortAfter.apps, 'after');

    // Runs that change their apps: every step writes a file of its own (an intent before the
    // write, its result after), and each run ends with a commit. Not the goal's case; printed.
    const writeApps = await appsWithNote(teamId, CONCURRENT_RUNS);
    const writeCpuBefore = cpuSnapshot(processes);
    const writeStatementsBefore = await checkpointStatements();
    const writing = await burst(teamId, writeApps, (i) => `bench latency=${LATENCY_MS} write ${i}`);
    const writeCpuPerStep = cpuPerUnitMs(writeCpuBefore, cpuSnapshot(processes), CONCURRENT_RUNS * STEPS);
    const writeStatements = statementsBetween(writeStatementsBefore, await checkpointStatements());
    const writesMissing = await notCompleted(teamId, writing.posted, true);
    if (writesMissing.length > 0) print(`writing runs not completed:\n${writesMissing.join('\n')}`);
    const writesCompleted = writing.posted.length - writesMissing.length;
    const writingRuns = {
      wallMs: round(writing.wallMs, 0),
      completed: writesCompleted,
      cpuPerStepMs: writeCpuPerStep,
      checkpointStatements: writeStatements,
    };
    const onceAndStep = {
      shortWallMs: [round(shortBefore.wallMs, 0), round(shortAfter.wallMs, 0)],
      runs: splitPerRun(
        { steps: STEPS, cpuPerStepMs: cpuPerStep },
        { steps: SHORT_STEPS, cpuPerStepMs: meanOf(shortBefore.cpuPerStepMs, shortAfter.cpuPerStepMs) },
      ),
      bare: splitPerRun({ steps: STEPS, cpuPerStepMs: bareCpuPerStep }, { steps: SHORT_STEPS, cpuPerStepMs: meanOf(shortBareBefore, shortBareAfter) }),
    };

    const overhead = {
      medianMs: round(median(perStep), 2),
      p99Ms: round(percentile(perStep, 99), 2),
      meanPerRunMs: round(perRun.reduce((a, b) => a + b, 0) / perRun.length, 2),
      steps: perStep.length,
      wholeStepMedianMs: round(median(wholeStep), 2),
      wholeStepP99Ms: round(percentile(wholeStep, 99), 2),
      checkpointMeanMs,
      checkpoints,
    };
    const split = { replyToResultMs: round(median(toResult), 2), resultToReplyMs: round(median(resultToReply), 2) };
    const loneStart = { claimToStartedMs: round(median(claimToStarted), 2), claimToReplyMs: round(median(claimToReply), 2) };
    const base = {
      medianMs: round(median(baseline), 2),
      p99Ms: round(percentile(baseline, 99), 2),
      wholeStepMedianMs: round(median(baselineWhole), 2),
      wholeStepP99Ms: round(percentile(baselineWhole, 99), 2),
      cpuPerStepMs: baselineCpuPerStep,
    };
    const concurrent = {
      runs: CONCURRENT_RUNS,
      completed,
      wallMs: round(wallMs, 0),
      burstWallsMs: timed.wallsMs,
      idealMs,
      wallRatio: round(wallMs / idealMs, 2),
      peakModelCallsInFlight: peakInFlight,
      modelWaitMedianMs: round(median(modelWaits), 1),
      modelWaitP99Ms: round(percentile(modelWaits, 99), 1),
      modelPath,
      checkpointStatements: burstStatements,
      cpuPerStepMs: cpuPerStep,
      // Wall time the CPU alone needs on this machine's cores, had nothing else run.
      cpuFloorMs: round((cpuPerStep['total']! * CONCURRENT_RUNS * STEPS) / machine.cpus, 0),
    };
    // A durable orchestration of these services does at least the bare calls and one fenced commit per
    // step, at the cheaper of a commit alone and its share of a statement writing several runs' rows.
    const commitCpuMs = Math.min(
      floor.fencedCommitCpuMs.postgres + floor.fencedCommitCpuMs.client,
      floor.batchedFencedCommitCpuMs.postgres + floor.batchedFencedCommitCpuMs.client,
    );
    const durableCpuPerStepMs = bareCpuPerStep['total']! + commitCpuMs;
    const bare = {
      wallMs: round(bareWallMs, 0),
      burstWallsMs: bareTimed.wallsMs,
      wallRatio: round(bareWallMs / idealMs, 2),
      cpuPerStepMs: bareCpuPerStep,
      cpuFloorMs: round((bareCpuPerStep['total']! * CONCURRENT_RUNS * STEPS) / machine.cpus, 0),
      durableCpuPerStepMs: round(durableCpuPerStepMs, 3),
      durableCpuFloorMs: round((durableCpuPerStepMs * CONCURRENT_RUNS * STEPS) / machine.cpus, 0),
      // The CPU per step the goal's wall leaves, every process together, had the cores nothing else to do.
      goalCpuPerStepMs: round((GOAL_WALL_MS * machine.cpus) / (CONCURRENT_RUNS * STEPS), 3),
    };
    const goals = [
      goal(`orchestration overhead per step, median (zero-latency model, no-op tool)`, overhead.medianMs, GOAL_OVERHEAD_MS, ' ms'),
      goal(`${CONCURRENT_RUNS} concurrent runs × ${STEPS} steps at ${LATENCY_MS} ms on 2 replicas, wall`, concurrent.wallMs, GOAL_WALL_MS, ' ms'),
      goal(`runs not completed`, posted.length - completed, 0, ''),
    ];
    print('\norchestrator: overhead per step (ms), ours vs the bare calls from the bench process');
    print(
      formatTable(
        ['measure', 'median', 'p99', 'ratio (median)'],
        [
          ['orchestrator step − model wait', overhead.medianMs, overhead.p99Ms, ratio(overhead.medianMs, base.medianMs)],
          ['baseline: ai call + tool call, no persistence − model wait', base.medianMs, base.p99Ms, 1],
          [
            'whole step, model call included (ours)',
            overhead.wholeStepMedianMs,
            overhead.wholeStepP99Ms,
            ratio(overhead.wholeStepMedianMs, base.wholeStepMedianMs),
          ],
          ['whole step, model call included (baseline)', base.wholeStepMedianMs, base.wholeStepP99Ms, 1],
        ],
      ),
    );
    print(
      `  mean per run ((wall − model time) / steps): ${overhead.meanPerRunMs} ms over ${OVERHEAD_RUNS} runs; one checkpoint (write + publish) takes ${checkpointMeanMs} ms on average (${checkpoints})`,
    );
    print(
      `  a step's parts, means (ms): model checkpoint ${breakdown['modelCheckpoint']?.meanMs}, tool checkpoint ${breakdown['toolCheckpoint']?.meanMs}, ` +
        `tool call ${breakdown['toolRpc']?.meanMs} (${breakdown['toolHandler']?.meanMs} in tool-runner's handler, the setup's writes included), model call ${breakdown['modelRpc']?.meanMs} (the checkpoint of the reply overlaps the read-only tool call)`,
    );
    print(
      `  a step by its checkpoints' start times, medians (ms): reply → read's result ${split.replyToResultMs}, result → next reply − model wait ${split.resultToReplyMs}`,
    );
    print(
      `  a run's start, one at a time, medians (ms): claim → run_started written ${loneStart.claimToStartedMs}, claim → first reply written − model wait ${loneStart.claimToReplyMs}`,
    );
    print(
      `  floor, same run, bare clients (median / p99 ms): one ${floor.payloadBytes}-byte checkpoint row, commit waiting for the WAL flush ` +
        `${floor.pgSyncCommit.medianMs} / ${floor.pgSyncCommit.p99Ms}, behind a lease fence (UPDATE + INSERT) ${floor.pgFencedSyncCommit.medianMs} / ${floor.pgFencedSyncCommit.p99Ms}; synchronous_commit off ${floor.pgAsyncCommit.medianMs} / ${floor.pgAsyncCommit.p99Ms}; ` +
        `JetStream publish with ack ${floor.jetstreamPublish.medianMs} / ${floor.jetstreamPublish.p99Ms}; core NATS publish + flush ` +
        `${floor.coreNatsPublishFlush.medianMs} / ${floor.coreNatsPublishFlush.p99Ms}; ` +
        `CPU per fenced commit, ${floor.fencedCommitCpuMs.writers} writers at once: PostgreSQL ${floor.fencedCommitCpuMs.postgres} ms, the client ${floor.fencedCommitCpuMs.client} ms; ` +
        `per fenced row, ${floor.batchedFencedCommitCpuMs.rowsPerStatement} rows per statement, ${floor.batchedFencedCommitCpuMs.writers} writers at once: ` +
        `PostgreSQL ${floor.batchedFencedCommitCpuMs.postgres} ms, the client ${floor.batchedFencedCommitCpuMs.client} ms`,
    );
    print(
      `  a durable step cannot go below the bare calls + one fenced synchronous commit: ${round(base.medianMs + floor.pgFencedSyncCommit.medianMs, 2)} ms in series ` +
        `(a writing call), ${round(Math.max(base.medianMs, floor.pgFencedSyncCommit.medianMs), 2)} ms when the commit overlaps the read; ours ${overhead.medianMs} ms`,
    );
    print(
      `\n${CONCURRENT_RUNS} concurrent runs: wall ${concurrent.wallMs} ms vs ideal ${idealMs} ms (${concurrent.wallRatio}×), the median of ${TIMED_BURSTS} bursts (${timed.wallsMs.join(' / ')} ms); completed ${completed}/${posted.length}`,
    );
    print(
      `  the first burst (the same runs on a platform that had not run concurrently yet, not the goal's): wall ${cold.wallMs} ms; CPU per step ${cold.cpuPerStepMs['total']} ms ` +
        `(ai-router ${cold.cpuPerStepMs['ai-router']}, tool-runner ${cold.cpuPerStepMs['tool-runner']}, orchestrators ${round(cold.cpuPerStepMs['orchestrator-a']! + cold.cpuPerStepMs['orchestrator-b']!, 3)}, postgres ${cold.cpuPerStepMs['postgres']})`,
    );
    print(
      `  model calls in flight at the fake, peak: ${peakInFlight}; wait per model call seen by the loop: median ${concurrent.modelWaitMedianMs} ms, p99 ${concurrent.modelWaitP99Ms} ms`,
    );
    print(`  each timed burst from its first post, ms (first / median / last run): ${timelines.map((t, i) => `${i + 1}. ${t}`).join('; ')}`);
    print(
      `  a model call, mean: ${modelPath.rpcMeanMs} ms seen by the loop ⊃ ${modelPath.handlerMeanMs} ms in ai-router's handler ⊃ ${modelPath.providerMeanMs} ms provider call ⊃ ${LATENCY_MS} ms the fake waits; calls: ${listed(modelPath.calls)}`,
    );
    print(
      `  checkpoints: ${burstStatements.checkpoints} in ${burstStatements.statements} statements ` +
        `(${round(burstStatements.checkpoints / Math.max(1, burstStatements.statements), 2)} per statement: those of several runs asked for in one turn share one)`,
    );
    print(`  baseline's CPU per step (ms), the bare calls: ${listed(baselineCpuPerStep)}`);
    print(`  CPU per step (ms) by process: ${listed(cpuPerStep)}; CPU floor on ${machine.cpus} cores: ${concurrent.cpuFloorMs} ms`);
    print(
      `  baseline, the same ${CONCURRENT_RUNS} × ${STEPS} steps as bare calls from here at once, nothing persisted: wall ${bare.wallMs} ms, the median of ${bare.burstWallsMs.join(' / ')} (${bare.wallRatio}× ideal); ` +
        `the runs take ${ratio(concurrent.wallMs, bare.wallMs)}× its wall and ${ratio(cpuPerStep['total']!, bareCpuPerStep['total']!)}× its CPU per step`,
    );
    print(`  its CPU per step (ms) by process: ${listed(bareCpuPerStep)}; CPU floor on ${machine.cpus} cores: ${bare.cpuFloorMs} ms`);
    print(
      `  a durable orchestration of these services, at the least the bare calls + one fenced commit per step (the cheaper of alone and shared): ${bare.durableCpuPerStepMs} ms of CPU per step, ` +
        `≥ ${bare.durableCpuFloorMs} ms on ${machine.cpus} cores; the goal's ${GOAL_WALL_MS} ms allows ${bare.goalCpuPerStepMs} ms per step; the runs spend ${cpuPerStep['total']} ms`,
    );
    print(
      `  what a run costs once and what each of its steps costs, from the timed bursts and two of ${SHORT_STEPS}-step runs on new apps, one before them and one after (${onceAndStep.shortWallMs.join(' and ')} ms), ` +
        `CPU per step = per run / steps + per step: the runs ${onceAndStep.runs.perRunMs['total']} ms per run (${listed(onceAndStep.runs.perRunMs, 'total')}) + ` +
        `${onceAndStep.runs.perStepMs['total']} ms per step (${listed(onceAndStep.runs.perStepMs, 'total')}); the bare calls ${onceAndStep.bare.perRunMs['total']} ms per run + ${onceAndStep.bare.perStepMs['total']} ms per step`,
    );
    print(
      `  writing runs, ${CONCURRENT_RUNS} at once (each step writes a file; each run ends with a commit): wall ${writingRuns.wallMs} ms, completed with a commit ` +
        `${writingRuns.completed}/${CONCURRENT_RUNS}; checkpoints: ${writingRuns.checkpointStatements.checkpoints} in ${writingRuns.checkpointStatements.statements} statements; ` +
        `CPU per step (ms) by process: ${listed(writeCpuPerStep)}`,
    );
    if (PROFILE) {
      await deps.stopService('ai-router'); // the preload writes the profile on exit
      await replicas[0]?.stopService('orchestrator');
      for (const name of ['deps', 'orchestrator']) {
        for (const profile of readProfiles(join(profileDir, name))) {
          const window =
            PROFILE_PHASE === 'steps'
              ? { windowStartUs: stepsStartUs, windowEndUs: stepsEndUs }
              : PROFILE_PHASE === 'bare'
                ? bareTimed.window
                : PROFILE_PHASE === 'short'
                  ? shortWindow
                  : timed.window;
          const summary = summarizeProfile(profile, { ...window, top: 25 });
          print(`\nprofile (${name}), ${summary.sampledMs} ms sampled:\n${summary.byPackage.map((p) => `  ${p.selfPct}% ${p.name}`).join('\n')}`);
          print(summary.topInclusive.map((p) => `  incl ${p.inclusivePct}% ${p.name}`).join('\n'));
          print(summary.topSelf.map((p) => `  self ${p.selfPct}% ${p.name}`).join('\n'));
        }
      }
    }
    print(formatGoals(goals));
    recordResult({
      benchmark: 'orchestrator',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        overhead: `${OVERHEAD_RUNS} runs × ${STEPS} steps, one at a time, fake model 0 ms, tool read_file of 12 bytes; per step = model checkpoint interval − modelMs recorded by the loop`,
        floor: `bare pg client: INSERT of a checkpoint-sized row (a model_call step's data from this run), autocommit waiting for the WAL flush, behind a lease fence (one CTE: UPDATE of a lease row + INSERT), and with synchronous_commit off; bare nats client: JetStream publish awaiting its ack; ${FLOOR_SAMPLES} each, one at a time; then the fenced commit's CPU (PostgreSQL's tree and the client's) with 16 clients × 50 commits at once, and per row with 2 clients × 50 statements of 8 fenced rows each at once`,
        baseline:
          'the bench process calling ai.completion.create then tool.call.execute back to back (same catalog, growing conversation), nothing persisted; per step = total − model call',
        bareConcurrent: `${CONCURRENT_RUNS} loops in the bench process at once, each the baseline's two calls per step for ${STEPS} steps against the fake at ${LATENCY_MS} ms, nothing persisted; after the runs, on the same services and the last timed burst's apps, ${TIMED_BURSTS} times; the median wall, the mean CPU`,
        firstBurst: `the same ${CONCURRENT_RUNS} runs on apps of their own, just before the timed bursts, untimed for the goal`,
        perRun: `${CONCURRENT_RUNS} runs of ${SHORT_STEPS} steps on new apps at once just before the timed bursts and again just after them, and the same as bare calls just before and after the concurrent bare calls; per process, the mean CPU per step at ${SHORT_STEPS} steps and that at ${STEPS} solved for c = per run / steps + per step`,
        writingRuns: `after the bare calls, ${CONCURRENT_RUNS} runs on new apps at once whose steps each write a file of their own (write_file: an intent, the write, its result), each run ending with a commit through git-service; printed, not a goal`,
        concurrent: `${TIMED_BURSTS} bursts after the first, each on new apps: ${CONCURRENT_RUNS} runs posted at once, fake model ${LATENCY_MS} ms per call, 2 orchestrator replicas (RUN_CONCURRENCY=64, PREVIEW_CHECK=off), 1 ai-router, 1 tool-runner, 1 git-service; wall = first post → last final event, the median of the bursts; CPU per step their mean`,
        cpu: 'utime+stime from /proc/<pid>/stat of every process tree (PostgreSQL: postmaster and backends) before and after the phase, per model step; the bench process (the fake model, the event subscriber) from process.cpuUsage(); floor = total × steps / cores',
        modelPath:
          'means over the concurrent phase from the histograms: nats_request_duration_seconds (orchestrators) ⊃ nats_handler_duration_seconds (ai-router) ⊃ ai_request_duration_seconds (provider call)',
      },
      results: {
        overhead,
        baseline: base,
        overheadRatio: ratio(overhead.medianMs, base.medianMs),
        breakdown,
        split,
        floor,
        firstBurst: cold,
        concurrent,
        bareConcurrent: bare,
        perRunAndStep: onceAndStep,
        writingRuns,
      },
      goals,
    });
    expect(completed).toBe(posted.length);
    expect(writesCompleted).toBe(CONCURRENT_RUNS);
  });
});

import Anthropic from '@anthropic-ai/sdk';
import { aiV1, Rpc } from '@overskill/contracts';
import { connectNats, encodeMessage, ERROR_CODE_HEADER } from '@overskill/messaging';
import { REDIS_CLIENT_OPTIONS } from '@overskill/persistence';
import { AnthropicFake, launchPlatform, runAllMigrations, stackNatsCredentials, type RunningPlatform } from '@overskill/testing';
import Redis from 'ioredis';
import type { NatsConnection } from 'nats';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { profileClockUs, summarizeProfile, type CpuProfile } from './support/cpu-profile';
import { spawnTracked, stopChild, waitForLine } from './support/child-process';
import { cpuPerUnitMs, cpuSnapshot, stackServerPids, syscallSnapshot, syscallsPerUnit } from './support/process-cpu';
import { bareGatewayScript, bareRouterScript } from './support/bare-routed-path';
import { rawNatsResponderScript } from './support/raw-nats-responder';
import { sdkCallCostScript } from './support/sdk-call-cost';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult, RESULTS_DIR } from './support/results';
import { round, summarizeLatencyMs } from './support/stats';

// Router overhead, the issue's way: the same requests to the same local fake provider, once
// straight through @anthropic-ai/sdk and once through gateway (/api/v1/messages) → NATS →
// ai-router (limits, budgets, accounting on) → the fake, in one run, interleaved. Then throughput
// at concurrency 50 with a fake that takes 20 ms. Benchmarks report; they fail only when a call fails.
// A third series is the floor of any gateway in a process of its own: SDK → a bare node:http
// proxy (keep-alive agent, bodies piped, nothing parsed) → the same fake. What the router adds
// beyond that is the cost of what it does; the proxy's own cost is one more HTTP hop on this machine.
// Two more series are the other parts the path cannot do without, each bare: a plain nats.js
// request-reply carrying the router's own request and reply bytes to a plain responder process, and
// one run of the admission script in Redis (ai-router's own ledger code, one EVALSHA). The proxy's
// added median plus these two medians is the path's floor, measured in the same run. The sixth
// series is that floor whole: the bare routed path below, one call at a time.
// At concurrency 50 the ceiling is measured whole: a bare routed path of the same shape from plain
// parts (bare node:http gateway → plain nats.js → a bare router process that runs one admission and
// one SDK call on ai-router's fetch → the fake), its rate and every process's CPU per call beside the
// direct and routed series, alternated in rounds.

const REQUESTS = Number(process.env.BENCH_AI_REQUESTS ?? 2000);
const WARMUP = Number(process.env.BENCH_AI_WARMUP ?? 200);
const BLOCKS = 10;
const CONCURRENCY = 50;
const SLOW_FAKE_MS = 20;
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_AI_THROUGHPUT_REQUESTS ?? 2000);
// direct, bare, router in turn, this many times: the machine's load moves less between neighbours.
const THROUGHPUT_ROUNDS = Number(process.env.BENCH_AI_THROUGHPUT_ROUNDS ?? 2);
const PROVIDER_KEY = 'sk-ant-bench';
const GOAL_MEDIAN_OVERHEAD_US = 1000;
const STREAM_REQUESTS = Number(process.env.BENCH_AI_STREAM_REQUESTS ?? 300);
const SDK_CALLS = Number(process.env.BENCH_AI_SDK_CALLS ?? 2000);
// BENCH_CPU_PROFILE=1: gateway and ai-router run under V8's sampling profiler (a preload), and
// where their CPU goes is printed at the end. The figures of such a run are not comparable.
const PROFILE = process.env.BENCH_CPU_PROFILE === '1';
// BENCH_CPU_PROFILE_PHASE=concurrency: the profiles' window is the concurrency-50 rounds only.
const PROFILE_CONCURRENCY = process.env.BENCH_CPU_PROFILE_PHASE === 'concurrency';
const BARE_PROXY = `
const http = require('node:http');
const target = new URL(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const server = http.createServer((req, res) => {
  const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.writeHead(502).end());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => console.log('ready ' + server.address().port));
`;

describe('benchmark: ai-router overhead and throughput', () => {
  const stack = integrationStack();
  // No request is kept: the bench reads none, and thousands would grow this process's heap.
  const fake = new AnthropicFake({ apiKey: PROVIDER_KEY, keepRequests: 0 });
  let platform: RunningPlatform | undefined;
  let proxy: ChildProcess | undefined;
  let responder: ChildProcess | undefined;
  let bareGateway: ChildProcess | undefined;
  let bareRouter: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    if (proxy) await stopChild(proxy);
    if (bareGateway) await stopChild(bareGateway);
    if (bareRouter) await stopChild(bareRouter);
    await nc?.drain();
    if (responder) await stopChild(responder);
    redis?.disconnect();
    await platform?.stop();
    await fake.stop();
  });

  it('measures SDK → fake against SDK → gateway → NATS → ai-router → fake', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-ai-router');
    const fakeUrl = await fake.start();
    let delayMs = 0;
    fake.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 12, output_tokens: 2 }, delayMs }));
    const configFile = join(dir, 'ai_models.yml');
    // Limits high enough not to refuse the bench, but on: every call runs admission and settlement.
    writeFileSync(
      configFile,
      `primary_model: anthropic/claude-sonnet-4-6\nfallback_model: anthropic/claude-haiku-4-5\nproviders:\n  anthropic: { type: anthropic, base_url: "${fakeUrl}", api_key_env: ANTHROPIC_API_KEY }\nrate_limits: { requests_per_minute: 1000000, tokens_per_minute: 1000000000 }\nbudgets: { team_usd_per_day: 1000, key_usd_per_day: 1000 }\n`,
    );
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['gateway', 'ai-router'],
      env: {
        LOG_LEVEL: 'warn',
        // The edge's limits still run on every request; the bench only must not hit them.
        GATEWAY_RATE_LIMIT_IP_MAX: '100000000',
        GATEWAY_RATE_LIMIT_KEY_MAX: '100000000',
        AI_MODELS_FILE: configFile,
        ANTHROPIC_API_KEY: PROVIDER_KEY,
        ...(PROFILE
          ? { NODE_OPTIONS: `--require ${join(__dirname, 'support', 'cpu-profile-preload.js')}`, BENCH_CPU_PROFILE_DIR: join(dir, 'cpuprofiles') }
          : {}),
      },
    });
    const { key, teamId } = createTeamKey(stack, 'bench-ai-router', 'member');
    const direct = new Anthropic({ apiKey: PROVIDER_KEY, baseURL: fakeUrl, maxRetries: 0 });
    proxy = spawnTracked(process.execPath, ['-e', BARE_PROXY, fakeUrl], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proxyPort = Number((await waitForLine(proxy, (l) => l.startsWith('ready '), 20_000, 'bare proxy')).split(' ')[1]);
    const viaProxy = new Anthropic({ apiKey: PROVIDER_KEY, baseURL: `http://127.0.0.1:${proxyPort}`, maxRetries: 0 });
    const viaRouter = new Anthropic({ apiKey: key, baseURL: `${platform.urls.gateway}/api`, maxRetries: 0 });
    const params: Anthropic.MessageCreateParamsNonStreaming = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say ok' }] };
    const call = async (client: Anthropic) => {
      const message = await client.messages.create(params);
      if (message.content[0]?.type !== 'text' || message.content[0].text !== 'ok') throw new Error(`wrong answer: ${JSON.stringify(message.content)}`);
    };

    // The floor's NATS part: the request the gateway builds for this call (same fields, same sizes)
    // and the router's real reply to it, between two plain nats.js clients.
    nc = await connectNats(stack.natsUrl, 'bench', stackNatsCredentials(stack));
    const floorRequest = encodeMessage(Rpc.aiCompletionCreate.request, {
      teamId,
      apiKeyId: randomUUID(),
      modelAlias: params.model,
      messages: [{ role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text: 'Say ok' } } }] }],
      maxTokens: params.max_tokens,
    });
    const probe = await nc.request(Rpc.aiCompletionCreate.subject, floorRequest, { timeout: 10_000 });
    if (probe.headers?.get(ERROR_CODE_HEADER)) throw new Error(`the floor probe failed: ${probe.headers.get(ERROR_CODE_HEADER)}`);
    const floorSubject = `bench.floor.${randomBytes(4).toString('hex')}`;
    responder = spawnTracked(process.execPath, ['-e', rawNatsResponderScript('bench-ai-floor-responder')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        NATS_URL: stack.natsUrl,
        NATS_NKEY_SEED: stack.natsSeeds['test-harness'],
        SUBJECT: floorSubject,
        REPLY_B64: Buffer.from(probe.data).toString('base64'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForLine(responder, (line) => line === 'ready', 30_000, 'the floor responder');
    const floorNats = nc;
    // The bare routed path (the ceiling at concurrency): the same request and reply bytes, one admission
    // on a team of its own, one SDK call to the same fake; the gateway answers the direct call's JSON.
    const bareSubject = `bench.bare.${randomBytes(4).toString('hex')}`;
    const childEnv = { ...process.env, NODE_OPTIONS: '', NATS_URL: stack.natsUrl, NATS_NKEY_SEED: stack.natsSeeds['test-harness'], SUBJECT: bareSubject };
    bareRouter = spawnTracked(process.execPath, ['-e', bareRouterScript()], {
      cwd: REPO_ROOT,
      env: {
        ...childEnv,
        REDIS_URL: stack.redisUrl,
        FAKE_URL: fakeUrl,
        PROVIDER_KEY,
        TEAM: `bench-bare-${randomUUID()}`,
        REPLY_B64: Buffer.from(probe.data).toString('base64'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForLine(bareRouter, (line) => line === 'ready', 30_000, 'the bare router');
    bareGateway = spawnTracked(process.execPath, ['-e', bareGatewayScript()], {
      cwd: REPO_ROOT,
      env: { ...childEnv, REQUEST_B64: Buffer.from(floorRequest).toString('base64'), ANSWER_JSON: JSON.stringify(await direct.messages.create(params)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const barePort = Number((await waitForLine(bareGateway, (l) => l.startsWith('ready '), 30_000, 'the bare gateway')).split(' ')[1]);
    const viaBare = new Anthropic({ apiKey: PROVIDER_KEY, baseURL: `http://127.0.0.1:${barePort}`, maxRetries: 0 });
    // What the bare router reports when a call fails (it answers the gateway with an empty reply, a 502 here).
    const bareRouterErrors: string[] = [];
    bareRouter.stderr?.on('data', (chunk: Buffer) => bareRouterErrors.push(chunk.toString()));
    const callBare = () =>
      call(viaBare).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; the bare router said: ${bareRouterErrors.join('').slice(-800)}`);
      });
    // The floor's Redis part: ai-router's own ledger (from dist/, as the platform runs it) admitting a
    // call with the same scopes as the router's (team and key rate limits and budgets), on a team of its own.
    const { UsageLedgerRepository } = require(join(REPO_ROOT, 'dist', 'services', 'ai-router', 'src', 'limits', 'usage-ledger.repository.js')) as {
      UsageLedgerRepository: new (redis: Redis) => { admit(admission: object): Promise<{ ok: boolean }> };
    };
    redis = new Redis(stack.redisUrl, REDIS_CLIENT_OPTIONS);
    const ledger = new UsageLedgerRepository(redis);
    const floorTeam = `bench-floor-${randomUUID()}`;
    const limits = { requestsPerMinute: 1_000_000_000, tokensPerMinute: 0 };
    const budget = { limitNano: 1e18, period: new Date().toISOString().slice(0, 10), ttlSeconds: 3600 };
    const admit = async () => {
      const admission = {
        rate: [
          { scope: 'team', id: floorTeam, ...limits },
          { scope: 'key', id: floorTeam, ...limits },
        ],
        budgets: [
          { scope: 'team', id: floorTeam, ...budget },
          { scope: 'key', id: floorTeam, ...budget },
        ],
        estimatedTokens: 3,
        estimatedCostNano: 963_000,
        minute: Math.floor(Date.now() / 60_000),
      };
      if (!(await ledger.admit(admission)).ok) throw new Error('the floor admission was refused');
    };

    const series = [
      { name: 'direct', description: '@anthropic-ai/sdk → fake provider', run: () => call(direct), samplesMs: [] as number[] },
      { name: 'router', description: '@anthropic-ai/sdk → gateway → NATS → ai-router → fake provider', run: () => call(viaRouter), samplesMs: [] as number[] },
      {
        name: 'proxy',
        description: '@anthropic-ai/sdk → bare node:http proxy → fake provider (the floor)',
        run: () => call(viaProxy),
        samplesMs: [] as number[],
      },
      {
        name: 'nats',
        description: 'plain nats.js request-reply, the router’s request and reply bytes (the floor)',
        run: async () => {
          await floorNats.request(floorSubject, floorRequest, { timeout: 10_000 });
        },
        samplesMs: [] as number[],
      },
      { name: 'redis', description: 'one EVALSHA of the admission script (the floor)', run: admit, samplesMs: [] as number[] },
      {
        name: 'bare',
        description: '@anthropic-ai/sdk → bare gateway → NATS → bare router (one admission, one SDK call) → fake provider (the whole floor)',
        run: callBare,
        samplesMs: [] as number[],
      },
    ];

    for (const s of series) for (let i = 0; i < WARMUP; i++) await s.run();
    // CPU of every process per call, summed over each series' blocks (the bench process is the SDK and the fake).
    const pids = platform.pids();
    const stackPids = stackServerPids();
    const processes = {
      ...stackPids,
      gateway: pids['gateway'],
      'ai-router': pids['ai-router'],
      proxy: proxy.pid,
      responder: responder.pid,
      'bare-gateway': bareGateway.pid,
      'bare-router': bareRouter.pid,
    };
    const cpu = Object.fromEntries(series.map((s) => [s.name, { before: {} as Record<string, number>, after: {} as Record<string, number>, calls: 0 }]));
    const perBlock = Math.ceil(REQUESTS / BLOCKS);
    // The profile summary covers the measured calls only, not the services' start and warm-up.
    const profileWindow = { windowStartUs: profileClockUs(), windowEndUs: 0 };
    for (let block = 0; block < BLOCKS; block++) {
      for (let k = 0; k < series.length; k++) {
        const s = series[(block + k) % series.length]!;
        const calls = Math.min(perBlock, REQUESTS - block * perBlock);
        const before = cpuSnapshot(processes);
        for (let i = 0; i < calls; i++) {
          const t0 = performance.now();
          await s.run();
          s.samplesMs.push(performance.now() - t0);
        }
        const after = cpuSnapshot(processes);
        const total = cpu[s.name]!;
        for (const name of Object.keys(after)) {
          total.before[name] = (total.before[name] ?? 0) + before[name]!;
          total.after[name] = (total.after[name] ?? 0) + after[name]!;
        }
        total.calls += calls;
      }
    }
    const cpuPerCallMs = Object.fromEntries(Object.entries(cpu).map(([name, t]) => [name, cpuPerUnitMs(t.before, t.after, t.calls)]));
    // Where the router's time goes, as each service measured it (means over every call so far).
    const meanOf = async (url: string, name: string, labelFilter: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const pick = (suffix: string) =>
        [...text.matchAll(new RegExp(`${name}_${suffix}\\{([^}]*)\\} ([\\d.e+-]+)`, 'g'))]
          .filter(([, labels]) => labels!.includes(labelFilter))
          .reduce((sum, [, , v]) => sum + Number(v), 0);
      const count = pick('count');
      return count ? round((pick('sum') / count) * 1e6, 1) : null;
    };
    const breakdownMeanUs = {
      gatewayHttp: await meanOf(platform.urls.gateway!, 'http_request_duration_seconds', 'route="/api/v1/messages"'),
      gatewayNatsRequest: await meanOf(platform.urls.gateway!, 'nats_request_duration_seconds', 'subject="ai.completion.create.v1"'),
      routerHandler: await meanOf(platform.urls['ai-router']!, 'nats_handler_duration_seconds', 'subject="ai.completion.create.v1"'),
      routerProviderCall: await meanOf(platform.urls['ai-router']!, 'ai_request_duration_seconds', 'outcome="ok"'),
    };
    const d = summarizeLatencyMs(series[0]!.samplesMs);
    const r = summarizeLatencyMs(series[1]!.samplesMs);
    const p = summarizeLatencyMs(series[2]!.samplesMs);
    const floorNatsLatency = summarizeLatencyMs(series[3]!.samplesMs);
    const floorRedisLatency = summarizeLatencyMs(series[4]!.samplesMs);
    const b = summarizeLatencyMs(series[5]!.samplesMs);
    const overhead = { medianUs: round(r.medianUs - d.medianUs, 1), p99Us: round(r.p99Us - d.p99Us, 1) };
    const floor = { medianUs: round(p.medianUs - d.medianUs, 1), p99Us: round(p.p99Us - d.p99Us, 1) };
    // One HTTP hop + one NATS request-reply + one admission script: what any gateway → router of this shape adds.
    const pathFloor = {
      medianUs: round(floor.medianUs + floorNatsLatency.medianUs + floorRedisLatency.medianUs, 1),
      parts: { httpHopUs: floor.medianUs, natsRequestReplyUs: floorNatsLatency.medianUs, admissionScriptUs: floorRedisLatency.medianUs },
      cpuPerCallMs: {
        httpHop: round(cpuPerCallMs['proxy']!.total! - cpuPerCallMs['direct']!.total!, 3),
        natsRequestReply: cpuPerCallMs['nats']!.total!,
        admissionScript: cpuPerCallMs['redis']!.total!,
      },
    };
    // The same shape whole, from plain parts in processes of their own: what any gateway → NATS →
    // router → provider adds before it authenticates, limits, traces or accounts anything.
    const bareAdded = {
      medianUs: round(b.medianUs - d.medianUs, 1),
      p99Us: round(b.p99Us - d.p99Us, 1),
      cpuPerCallMs: round(cpuPerCallMs['bare']!.total! - cpuPerCallMs['direct']!.total!, 3),
    };

    // Streaming: time to the first token (the first content_block_delta), interleaved call by call.
    const firstTokenMs = async (client: Anthropic) => {
      const t0 = performance.now();
      let first = Number.NaN;
      const stream = await client.messages.create({ ...params, stream: true });
      for await (const event of stream) if (Number.isNaN(first) && event.type === 'content_block_delta') first = performance.now() - t0;
      if (Number.isNaN(first)) throw new Error('the stream carried no content_block_delta');
      return first;
    };
    const ttft = { direct: [] as number[], router: [] as number[], proxy: [] as number[] };
    for (let i = 0; i < STREAM_REQUESTS; i++) {
      ttft.direct.push(await firstTokenMs(direct));
      ttft.router.push(await firstTokenMs(viaRouter));
      ttft.proxy.push(await firstTokenMs(viaProxy));
    }
    const ttftDirect = summarizeLatencyMs(ttft.direct);
    const ttftRouter = summarizeLatencyMs(ttft.router);
    const ttftProxy = summarizeLatencyMs(ttft.proxy);
    const ttftAdded = { medianUs: round(ttftRouter.medianUs - ttftDirect.medianUs, 1), p99Us: round(ttftRouter.p99Us - ttftDirect.p99Us, 1) };
    const ttftFloor = round(ttftProxy.medianUs - ttftDirect.medianUs, 1);
    // The first token crosses the same parts: the HTTP hop, NATS (request, then the chunk), the admission.
    const ttftPathFloor = round(ttftFloor + floorNatsLatency.medianUs + floorRedisLatency.medianUs, 1);
    // CPU per streamed call of every process, each series in a block of its own (not timed).
    // Reads and writes (system calls) per call: a count the machine's load does not move.
    const ioProcesses = { gateway: pids['gateway'], 'ai-router': pids['ai-router'], nats: stackPids['nats'], redis: stackPids['redis'] };
    const streamCpu = async (client: Anthropic) => {
      const before = cpuSnapshot(processes);
      const io = syscallSnapshot(ioProcesses);
      for (let i = 0; i < STREAM_REQUESTS; i++) await firstTokenMs(client);
      return {
        cpu: cpuPerUnitMs(before, cpuSnapshot(processes), STREAM_REQUESTS),
        syscalls: syscallsPerUnit(io, syscallSnapshot(ioProcesses), STREAM_REQUESTS),
      };
    };
    const streamDirect = await streamCpu(direct);
    const streamRouter = await streamCpu(viaRouter);
    const streamCpuPerCallMs = { direct: streamDirect.cpu, router: streamRouter.cpu };

    // Throughput: 50 callers at once, the provider taking 20 ms per answer.
    delayMs = SLOW_FAKE_MS;
    const ioProcessesAt50 = { ...ioProcesses, 'bare-gateway': bareGateway.pid, 'bare-router': bareRouter.pid };
    const runAt50 = async (one: () => Promise<void>) => {
      const samples: number[] = [];
      let next = 0;
      const cpuBefore = cpuSnapshot(processes);
      const ioBefore = syscallSnapshot(ioProcessesAt50);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < THROUGHPUT_REQUESTS) {
            next += 1;
            const s0 = performance.now();
            await one();
            samples.push(performance.now() - s0);
          }
        }),
      );
      return {
        samples,
        seconds: (performance.now() - t0) / 1000,
        cpuBefore,
        cpuAfter: cpuSnapshot(processes),
        ioBefore,
        ioAfter: syscallSnapshot(ioProcessesAt50),
      };
    };
    const at50 = {
      direct: { run: () => call(direct), runs: [] as Array<Awaited<ReturnType<typeof runAt50>>> },
      bare: { run: callBare, runs: [] as Array<Awaited<ReturnType<typeof runAt50>>> },
      router: { run: () => call(viaRouter), runs: [] as Array<Awaited<ReturnType<typeof runAt50>>> },
    };
    // Warm-up at the same concurrency: every series opens its sockets and compiles its hot code first.
    for (const x of Object.values(at50)) for (let i = 0; i < 4; i++) await Promise.all(Array.from({ length: CONCURRENCY }, () => x.run()));
    if (PROFILE_CONCURRENCY) profileWindow.windowStartUs = profileClockUs();
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) for (const x of Object.values(at50)) x.runs.push(await runAt50(x.run));
    // Rate over the rounds together; CPU and system calls per call of every process (what bounds the rate on these cores).
    const throughputOf = (runs: Array<Awaited<ReturnType<typeof runAt50>>>) => {
      const samples = runs.flatMap((x) => x.samples);
      const sum = (pick: (x: (typeof runs)[number]) => Record<string, number>) => {
        const out: Record<string, number> = {};
        for (const x of runs) for (const [name, v] of Object.entries(pick(x))) out[name] = (out[name] ?? 0) + v;
        return out;
      };
      const io = (pick: (x: (typeof runs)[number]) => Record<string, { reads: number; writes: number }>) => {
        const out: Record<string, { reads: number; writes: number }> = {};
        for (const x of runs)
          for (const [name, v] of Object.entries(pick(x)))
            out[name] = { reads: (out[name]?.reads ?? 0) + v.reads, writes: (out[name]?.writes ?? 0) + v.writes };
        return out;
      };
      const seconds = runs.reduce((t, x) => t + x.seconds, 0);
      return {
        requestsPerSecond: round(samples.length / seconds, 1),
        perRoundRequestsPerSecond: runs.map((x) => round(x.samples.length / x.seconds, 1)),
        ...summarizeLatencyMs(samples),
        cpuPerCallMs: cpuPerUnitMs(
          sum((x) => x.cpuBefore),
          sum((x) => x.cpuAfter),
          samples.length,
        ),
        syscallsPerCall: syscallsPerUnit(
          io((x) => x.ioBefore),
          io((x) => x.ioAfter),
          samples.length,
        ),
      };
    };
    const throughputDirect = throughputOf(at50.direct.runs);
    const throughputBare = throughputOf(at50.bare.runs);
    const throughputRouter = throughputOf(at50.router.runs);
    // What the cores allow each series if CPU were the only bound: all processes share the cores, and
    // the bench process (the SDK client and the fake, in every series) can use at most one of them.
    const cores = machine.cpus;
    const cpuBoundRate = (t: { cpuPerCallMs: Record<string, number> }) =>
      round(Math.min((cores * 1000) / t.cpuPerCallMs['total']!, 1000 / t.cpuPerCallMs['bench']!), 1);
    const directBound = cpuBoundRate(throughputDirect);
    // At 0.9× the direct series' CPU-bound rate, the CPU per call the cores leave for a routed call,
    // less what the bare routed path already spends: what auth, limits, tracing and accounting may cost.
    const budgetAt09Ms = round((cores * 1000) / (0.9 * directBound) - throughputBare.cpuPerCallMs['total']!, 3);
    const ceiling = {
      bareRequestsPerSecond: throughputBare.requestsPerSecond,
      ratioBareToDirect: round(throughputBare.requestsPerSecond / throughputDirect.requestsPerSecond, 2),
      ratioRouterToBare: round(throughputRouter.requestsPerSecond / throughputBare.requestsPerSecond, 2),
      cpuBoundRequestsPerSecond: { direct: directBound, bare: cpuBoundRate(throughputBare), router: cpuBoundRate(throughputRouter) },
      cpuBoundRatioBareToDirect: round(cpuBoundRate(throughputBare) / directBound, 2),
      cpuBoundRatioRouterToDirect: round(cpuBoundRate(throughputRouter) / directBound, 2),
      cpuPerCallLeftAt09Ms: budgetAt09Ms,
      routerCpuPerCallOverBareMs: round(throughputRouter.cpuPerCallMs['total']! - throughputBare.cpuPerCallMs['total']!, 3),
    };
    profileWindow.windowEndUs = profileClockUs();

    // What the same SDK call costs inside a traced service and without tracing: a child process
    // each (tracing is process-wide), the fake in the same process.
    const sdkCallCpuMs = async (tracing: boolean): Promise<Record<string, number>> => {
      const child = spawnTracked(process.execPath, ['-e', sdkCallCostScript()], {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_OPTIONS: '', TRACING: tracing ? '1' : '0', CALLS: String(SDK_CALLS) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        return JSON.parse(await waitForLine(child, (line) => line.startsWith('{'), 300_000, 'the SDK call cost probe')) as Record<string, number>;
      } finally {
        await stopChild(child);
      }
    };
    const sdkCallCost = { untraced: await sdkCallCpuMs(false), traced: await sdkCallCpuMs(true) };

    const goals = [
      goal('router overhead at the median (SDK → gateway → NATS → ai-router vs SDK → provider)', overhead.medianUs, GOAL_MEDIAN_OVERHEAD_US, ' µs'),
      goal('streaming: time to first token added by the router, median', ttftAdded.medianUs, GOAL_MEDIAN_OVERHEAD_US, ' µs'),
    ];
    recordResult({
      benchmark: 'ai-router',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        requestsPerSeries: REQUESTS,
        warmupPerSeries: WARMUP,
        blocks: BLOCKS,
        interleaving: 'each block runs the six series in turn, the order rotating block by block',
        floor: 'SDK → a bare node:http proxy process (keep-alive agent, bodies piped) → the same fake',
        pathFloor:
          'the proxy’s added median + a plain nats.js request-reply of the router’s bytes + one admission script run (EVALSHA), interleaved with the rest',
        provider: 'AnthropicFake on loopback, answering at once (overhead) or after 20 ms (throughput)',
        router: 'gateway + ai-router from dist/, LOG_LEVEL=warn, rate limits, budgets and usage events on, cache off (temperature unset)',
        streaming: `${STREAM_REQUESTS} streamed calls per series, alternating call by call; time to first token = request start → first content_block_delta event`,
        concurrency: CONCURRENCY,
        throughputRequests: THROUGHPUT_REQUESTS,
        throughputRounds: `${THROUGHPUT_ROUNDS} rounds of direct, bare, router in turn, ${THROUGHPUT_REQUESTS} calls per series per round`,
        bareRoutedPath:
          'bare node:http gateway (reads the body, answers fixed JSON) → plain nats.js request of the router’s request bytes → a bare router process: ai-router’s admission (one EVALSHA), one @anthropic-ai/sdk call on ai-router’s fetch to the fake, the router’s reply bytes',
        sdkCall: `${SDK_CALLS} calls per variant in 8 interleaved blocks, in a child process with the fake, untraced and with the services' tracing started`,
      },
      results: {
        direct: d,
        router: r,
        proxy: p,
        overhead,
        floor,
        floorParts: { nats: floorNatsLatency, redis: floorRedisLatency },
        pathFloor,
        bare: b,
        bareAdded,
        breakdownMeanUs,
        cpuPerCallMs,
        timeToFirstToken: {
          direct: ttftDirect,
          router: ttftRouter,
          proxy: ttftProxy,
          added: ttftAdded,
          floorAddedMedianUs: ttftFloor,
          pathFloorMedianUs: ttftPathFloor,
        },
        streamCpuPerCallMs,
        syscallsPerCall: {
          streamed: streamRouter.syscalls,
          concurrency50: throughputRouter.syscallsPerCall,
          bareConcurrency50: throughputBare.syscallsPerCall,
        },
        sdkCallCpuPerCallMs: sdkCallCost,
        throughput: {
          direct: throughputDirect,
          bare: throughputBare,
          router: throughputRouter,
          ratioRouterToDirect: round(throughputRouter.requestsPerSecond / throughputDirect.requestsPerSecond, 2),
          ceiling,
        },
      },
      goals,
    });
    print(
      `\nai-router overhead — ${REQUESTS} sequential requests per series, ${BLOCKS} interleaved blocks (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`,
    );
    print(
      formatTable(
        ['series', 'median µs', 'p90 µs', 'p99 µs', 'min µs', 'max µs'],
        [d, r, p, floorNatsLatency, floorRedisLatency, b].map((x, i) => [series[i]!.name, x.medianUs, x.p90Us, x.p99Us, x.minUs, x.maxUs]),
      ),
    );
    print(`\noverhead per request: median ${overhead.medianUs} µs, p99 ${overhead.p99Us} µs; the floor (bare proxy) adds ${floor.medianUs} µs at the median`);
    print(
      `the path's floor: ${pathFloor.medianUs} µs at the median = HTTP hop ${floor.medianUs} + NATS request-reply ${floorNatsLatency.medianUs} + admission script ${floorRedisLatency.medianUs}; the router adds ${round(overhead.medianUs / pathFloor.medianUs, 2)}× that`,
    );
    print(
      `  its CPU per call (ms, all processes): HTTP hop ${pathFloor.cpuPerCallMs.httpHop}, NATS request-reply ${pathFloor.cpuPerCallMs.natsRequestReply}, admission script ${pathFloor.cpuPerCallMs.admissionScript}`,
    );
    print(
      `the bare routed path, whole: adds ${bareAdded.medianUs} µs at the median (p99 ${bareAdded.p99Us}), ${bareAdded.cpuPerCallMs} ms of CPU per call over the direct call; ` +
        `the router adds ${round(overhead.medianUs / bareAdded.medianUs, 2)}× that, ${round(cpuPerCallMs['router']!.total! - cpuPerCallMs['direct']!.total!, 3)} ms of CPU`,
    );
    print(
      `where the time goes (means, µs): gateway HTTP ${breakdownMeanUs.gatewayHttp} ⊃ NATS request ${breakdownMeanUs.gatewayNatsRequest} ⊃ ai-router handler ${breakdownMeanUs.routerHandler} ⊃ provider call ${breakdownMeanUs.routerProviderCall}`,
    );
    print(`CPU per call (ms), every process:`);
    for (const [name, perProcess] of Object.entries(cpuPerCallMs))
      print(
        `  ${name}: ${Object.entries(perProcess)
          .map(([p, ms]) => `${p} ${ms}`)
          .join(', ')}`,
      );
    print(
      `\nstreaming, time to first token (${STREAM_REQUESTS} per series): direct median ${ttftDirect.medianUs} µs (p99 ${ttftDirect.p99Us}), router median ${ttftRouter.medianUs} µs (p99 ${ttftRouter.p99Us}); added ${ttftAdded.medianUs} µs at the median (bare proxy: ${ttftFloor} µs; the path's floor: ${ttftPathFloor} µs)`,
    );
    print(`CPU per streamed call (ms), every process:`);
    for (const [name, perProcess] of Object.entries(streamCpuPerCallMs))
      print(
        `  ${name}: ${Object.entries(perProcess)
          .map(([p, ms]) => `${p} ${ms}`)
          .join(', ')}`,
      );
    print(`\nthroughput at concurrency ${CONCURRENCY}, provider 20 ms, ${THROUGHPUT_ROUNDS} rounds × ${THROUGHPUT_REQUESTS} requests per series:`);
    print(
      formatTable(
        ['series', 'req/s', 'per round', 'median µs', 'p99 µs', 'CPU-bound req/s'],
        [
          ['direct', throughputDirect, ceiling.cpuBoundRequestsPerSecond.direct],
          ['bare routed path (the ceiling)', throughputBare, ceiling.cpuBoundRequestsPerSecond.bare],
          ['router', throughputRouter, ceiling.cpuBoundRequestsPerSecond.router],
        ].map(([name, t, bound]) => {
          const x = t as typeof throughputDirect;
          return [name as string, x.requestsPerSecond, x.perRoundRequestsPerSecond.join(' / '), x.medianUs, x.p99Us, bound as number];
        }),
      ),
    );
    print(
      `router ${round(throughputRouter.requestsPerSecond / throughputDirect.requestsPerSecond, 2)}× direct; the bare routed path ${ceiling.ratioBareToDirect}× direct; the router ${ceiling.ratioRouterToBare}× the bare path`,
    );
    print(
      `CPU-bound: the bare routed path ${ceiling.cpuBoundRatioBareToDirect}× direct, the router ${ceiling.cpuBoundRatioRouterToDirect}× direct; at 0.9× direct a routed call may spend ${budgetAt09Ms} ms of CPU beyond the bare path's parts, the router spends ${ceiling.routerCpuPerCallOverBareMs} ms more`,
    );
    print(`CPU per call at concurrency ${CONCURRENCY} (ms), every process:`);
    for (const [name, t] of [
      ['direct', throughputDirect],
      ['bare', throughputBare],
      ['router', throughputRouter],
    ] as const)
      print(
        `  ${name}: ${Object.entries(t.cpuPerCallMs)
          .map(([p, ms]) => `${p} ${ms}`)
          .join(', ')}`,
      );
    const formatIo = (io: Record<string, { reads: number; writes: number }>) =>
      Object.entries(io)
        .map(([p, x]) => `${p} ${x.reads}/${x.writes}`)
        .join(', ');
    print(`system calls per routed call (reads/writes): streamed ${formatIo(streamRouter.syscalls)}`);
    print(`  at concurrency ${CONCURRENCY}: ${formatIo(throughputRouter.syscallsPerCall)}`);
    print(`  bare routed path at concurrency ${CONCURRENCY}: ${formatIo(throughputBare.syscallsPerCall)}`);
    print(`\none SDK call on ai-router's fetch, CPU per call of client + fake in one process (ms), ${SDK_CALLS} calls per variant:`);
    print(
      formatTable(
        ['OpenTelemetry of the SDK', 'untraced process', 'traced like a service'],
        Object.keys(sdkCallCost.traced).map((name) => [name, sdkCallCost.untraced[name] ?? '', sdkCallCost.traced[name] ?? '']),
      ),
    );
    print(`\ngoals:\n${formatGoals(goals)}\n`);
    if (PROFILE) {
      await platform.stop();
      for (const service of ['gateway', 'ai-router'] as const) {
        const file = join(dir, 'cpuprofiles', `${pids[service]}.cpuprofile`);
        if (!readdirSync(join(dir, 'cpuprofiles')).includes(`${pids[service]}.cpuprofile`)) continue;
        const raw = readFileSync(file, 'utf8');
        // Kept for a closer look (Chrome DevTools, or summarizeProfile with other options).
        writeFileSync(join(RESULTS_DIR, `ai-router-bench-${service}.cpuprofile`), raw);
        const summary = summarizeProfile(JSON.parse(raw) as CpuProfile, { top: 25, ...profileWindow });
        print(`\nCPU profile of ${service} (${summary.sampledMs} ms sampled, idle excluded)`);
        print(
          formatTable(
            ['package', 'self %'],
            summary.byPackage.map((x) => [x.name, x.selfPct]),
          ),
        );
        print(
          formatTable(
            ['function (inclusive)', 'incl %'],
            summary.topInclusive.map((x) => [x.name, x.inclusivePct]),
          ),
        );
        print(
          formatTable(
            ['function (self)', 'self %'],
            summary.topSelf.map((x) => [x.name, x.selfPct]),
          ),
        );
      }
    }
  });
});

import { fromBinary } from '@bufbuild/protobuf';
import { Rpc, toolV1, type RpcDefinition } from '@overskill/contracts';
import { connectNats, encodeMessage, ERROR_CODE_HEADER, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics, requestContext, startTracing, type TracingHandle } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { spawnTracked, stopChild, waitForLine } from './support/child-process';
import { processCpuSeconds } from './support/process-cpu';
import { profileClockUs, profileSelf, readProfiles, summarizeProfile, type ProfileSummary } from './support/cpu-profile';
import { measureBreakdown } from './support/messaging-breakdown';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult, RESULTS_DIR } from './support/results';
import { ratio, round, summarizeLatencyMs, type LatencySummary } from './support/stats';
import { rawNatsResponderScript } from './support/raw-nats-responder';

// Request-reply through the messaging lib (NatsRpcClient → nats-server → tool-runner's
// NatsRpcServer: Nest handler, protobuf, tracing, metrics) against raw `nats` request() to a raw
// subscriber replying with the same number of bytes, on the same nats-server, in the same run.
// Benchmarks report; they fail only on a functional error (a wrong or missing reply).

const CALLS_PER_SERIES = Number(process.env.BENCH_MESSAGING_CALLS ?? 5000);
const WARMUP_CALLS = Number(process.env.BENCH_MESSAGING_WARMUP ?? 500);
const BLOCKS = 10;
const TIMEOUT_MS = 5000;
const GOAL_MEDIAN_RATIO = 1.3;
const IDLE_WINDOW_MS = 2000;
// BENCH_CPU_PROFILE=1: after the measured series, profile both ends of an extra run of the lib
// series (tool-runner through a preloaded inspector session, this process through the inspector) and print where the
// CPU time goes. The measured figures are taken before, without any profiler attached.
const PROFILE = process.env.BENCH_CPU_PROFILE === '1';
const PROFILE_CALLS = 3000;

// The raw baseline's server: plain `nats`, one subscription in a queue group, a fixed reply.
const RAW_SERVER = rawNatsResponderScript('bench-raw-server');

// The stack's nats-server monitor port, from the command line ManagedServer logs at each start.
function natsMonitorUrl(dataDir: string): string | undefined {
  try {
    const ports = [...readFileSync(join(dataDir, 'logs', 'nats.log'), 'utf8').matchAll(/ -m (\d+)/g)];
    const port = ports[ports.length - 1]?.[1];
    return port ? `http://127.0.0.1:${port}` : undefined;
  } catch {
    return undefined;
  }
}

// Messages nats-server delivered to a service's connections (all of them, by client name).
async function deliveredTo(monitorUrl: string, clientName: string): Promise<number> {
  const connz = (await (await fetch(`${monitorUrl}/connz?limit=1024`)).json()) as { connections: Array<{ name?: string; out_msgs: number }> };
  return connz.connections.filter((c) => c.name === clientName).reduce((sum, c) => sum + c.out_msgs, 0);
}

type SeriesName = 'ours' | 'raw' | 'rawClientToService' | 'libClientToRawServer';
interface Series {
  name: SeriesName;
  description: string;
  call: () => Promise<void>;
  samplesMs: number[];
  // Which process answers: tool-runner or the raw subscriber; and the CPU both ends spent.
  server: 'tool-runner' | 'raw';
  cpu: { clientUs: number; serverUs: number };
}

describe('benchmark: messaging request-reply', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let rawServer: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  let tracing: TracingHandle;

  afterAll(async () => {
    await nc?.close();
    if (rawServer) await stopChild(rawServer);
    await platform?.stop();
  });

  it('measures the lib against raw nats, interleaved', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-messaging');
    const profileDir = join(dir, 'cpuprofiles');
    // The bench process is a caller like any service: the OTel SDK is up (spans are real and
    // recorded, not exported; no OTLP endpoint), and a real metrics registry times each call.
    tracing = startTracing({ service: 'bench' });
    platform = await launchPlatform({
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: stack.databaseUrl,
      redisUrl: stack.redisUrl,
      services: ['tool-runner'],
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      env: {
        // Two tools keep the catalog reply ~0.6 KB, a typical small RPC: the bench measures the
        // transport, not protobuf-encoding the whole 23-tool catalog (12.6 KB) on every call.
        TOOLS_ENABLED: 'write_file,read_file',
        ...(PROFILE
          ? {
              NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'support', 'cpu-profile-preload.js')}`.trim(),
              BENCH_CPU_PROFILE_DIR: profileDir,
            }
          : {}),
      },
    });
    nc = await connectNats(stack.natsUrl, 'bench', stackNatsCredentials(stack));
    const client = new NatsRpcClient(nc, createServiceMetrics('bench'), TIMEOUT_MS);
    const def = Rpc.toolCatalogList;

    // Sizes on the wire: what the lib sends for this request, and what tool-runner answers.
    const requestBytes = encodeMessage(def.request, {});
    const probe = await nc.request(def.subject, requestBytes, { timeout: TIMEOUT_MS });
    expect(probe.headers?.get(ERROR_CODE_HEADER) ?? '').toBe('');
    const replyBytes = probe.data;
    const catalog = fromBinary(toolV1.CatalogListResponseSchema, replyBytes);
    const toolNames = catalog.tools.map((t) => t.name).join(',');
    expect(catalog.tools.length).toBeGreaterThan(0);

    // The raw server answers with tool-runner's exact reply bytes: same size, and decodable, so
    // the lib's client can call it too (the diagnostic series that splits client from server cost).
    const rawSubject = `bench.raw.${randomBytes(4).toString('hex')}`;
    rawServer = spawnTracked(process.execPath, ['-e', RAW_SERVER], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NATS_URL: stack.natsUrl,
        NATS_NKEY_SEED: stack.natsSeeds['test-harness'],
        SUBJECT: rawSubject,
        REPLY_B64: Buffer.from(replyBytes).toString('base64'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForLine(rawServer, (line) => line === 'ready', 30_000, 'the raw nats server');
    const rawDef: RpcDefinition = { ...def, subject: rawSubject };
    const rawRequest = new Uint8Array(requestBytes.length);

    const checkLibReply = (reply: toolV1.CatalogListResponse) => {
      if (reply.tools.map((t) => t.name).join(',') !== toolNames) throw new Error(`wrong reply: ${JSON.stringify(reply.tools.map((t) => t.name))}`);
    };
    const checkRawReply = (data: Uint8Array, headers: { get(k: string): string } | undefined) => {
      if (data.length !== replyBytes.length) throw new Error(`wrong reply size ${data.length}, expected ${replyBytes.length}`);
      const code = headers?.get(ERROR_CODE_HEADER);
      if (code) throw new Error(`error reply ${code}`);
    };
    const conn = nc;
    const toolRunnerPid = platform.pids()['tool-runner'];
    const series: Series[] = [
      {
        name: 'ours',
        description: 'NatsRpcClient.send → tool-runner (NatsRpcServer, Nest handler)',
        call: async () => checkLibReply(await client.send(def, {})),
        samplesMs: [],
        server: 'tool-runner',
        cpu: { clientUs: 0, serverUs: 0 },
      },
      {
        name: 'raw',
        description: 'raw nc.request → raw subscriber (same payload sizes)',
        call: async () => {
          const m = await conn.request(rawSubject, rawRequest, { timeout: TIMEOUT_MS });
          checkRawReply(m.data, m.headers);
        },
        samplesMs: [],
        server: 'raw',
        cpu: { clientUs: 0, serverUs: 0 },
      },
      {
        name: 'rawClientToService',
        description: 'diagnostic: raw nc.request → tool-runner (server side of the lib only)',
        call: async () => {
          const m = await conn.request(def.subject, rawRequest, { timeout: TIMEOUT_MS });
          checkRawReply(m.data, m.headers);
        },
        samplesMs: [],
        server: 'tool-runner',
        cpu: { clientUs: 0, serverUs: 0 },
      },
      {
        name: 'libClientToRawServer',
        description: 'diagnostic: NatsRpcClient.send → raw subscriber (client side of the lib only)',
        call: async () => checkLibReply((await client.send(rawDef as typeof def, {})) as toolV1.CatalogListResponse),
        samplesMs: [],
        server: 'raw',
        cpu: { clientUs: 0, serverUs: 0 },
      },
    ];

    // Each server's CPU while nobody calls it (timers, pings): what a series' CPU per call carries besides the calls.
    const idleBefore = { toolRunner: processCpuSeconds(toolRunnerPid), raw: processCpuSeconds(rawServer.pid) };
    await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
    const idleCpuMsPerSecond = {
      toolRunner: round(((processCpuSeconds(toolRunnerPid) - idleBefore.toolRunner) * 1e6) / IDLE_WINDOW_MS, 1),
      raw: round(((processCpuSeconds(rawServer.pid) - idleBefore.raw) * 1e6) / IDLE_WINDOW_MS, 1),
    };

    // A caller inside a request, as a service is: correlation and tenant ids go in the headers.
    await requestContext.run({ correlationId: 'bench-correlation', tenantId: 'bench-team' }, async () => {
      for (const s of series) for (let i = 0; i < WARMUP_CALLS; i++) await s.call();
      // Interleaved blocks, the series' order rotating each block, so drift and noise on a
      // shared 2-core machine land on every series alike.
      const perBlock = Math.ceil(CALLS_PER_SERIES / BLOCKS);
      for (let block = 0; block < BLOCKS; block++) {
        for (let k = 0; k < series.length; k++) {
          const s = series[(block + k) % series.length]!;
          const calls = Math.min(perBlock, CALLS_PER_SERIES - block * perBlock);
          // CPU of both ends over the segment: this process, and the one process that answers
          // (/proc ticks of 10 ms, summed over 10 segments of ~50-100 ms of CPU each).
          const serverPid = s.server === 'raw' ? rawServer!.pid : toolRunnerPid;
          const clientBefore = process.cpuUsage();
          const serverBefore = processCpuSeconds(serverPid);
          for (let i = 0; i < calls; i++) {
            const t0 = performance.now();
            await s.call();
            s.samplesMs.push(performance.now() - t0);
          }
          const clientUsed = process.cpuUsage(clientBefore);
          s.cpu.clientUs += clientUsed.user + clientUsed.system;
          s.cpu.serverUs += (processCpuSeconds(serverPid) - serverBefore) * 1e6;
        }
      }
    });

    // Server-side time per call as tool-runner itself measured it (handleMessage → reply handed
    // to Nest's serializer), over every call it served.
    const metricsText = await (await fetch(`${platform.urls['tool-runner']}/metrics`)).text();
    const handlerSum = Number(
      /nats_handler_duration_seconds_sum\{[^}]*subject="tool\.catalog\.list\.v1"[^}]*outcome="ok"[^}]*\} ([\d.e+-]+)/.exec(metricsText)?.[1],
    );
    const handlerCount = Number(
      /nats_handler_duration_seconds_count\{[^}]*subject="tool\.catalog\.list\.v1"[^}]*outcome="ok"[^}]*\} ([\d.e+-]+)/.exec(metricsText)?.[1],
    );
    const serverHandlerMeanUs = handlerCount > 0 ? round((handlerSum / handlerCount) * 1e6, 1) : null;
    // The histogram's buckets bound the median too (the mean carries GC pauses and other outliers).
    const buckets = [...metricsText.matchAll(/nats_handler_duration_seconds_bucket\{([^}]*)\} ([\d.e+-]+)/g)]
      .filter(([, labels]) => labels!.includes('subject="tool.catalog.list.v1"') && labels!.includes('outcome="ok"'))
      .map(([, labels, count]) => ({ le: /le="([^"]+)"/.exec(labels!)![1]!, count: Number(count) }));
    const medianBucket = buckets.find((b) => b.count >= handlerCount / 2);
    const serverHandlerMedianAtMostUs = medianBucket && medianBucket.le !== '+Inf' ? round(Number(medianBucket.le) * 1e6, 0) : null;
    const serverHandlerShareUnder = Object.fromEntries(
      buckets.filter((b) => b.le !== '+Inf' && Number(b.le) <= 0.001).map((b) => [`${round(Number(b.le) * 1e6, 0)}us`, round(b.count / handlerCount, 3)]),
    );

    const breakdown = await measureBreakdown({ def, requestInit: {}, replyBytes });

    // How many copies of one request nats-server delivers to tool-runner (1 is the minimum).
    const monitor = natsMonitorUrl(stack.dataDir);
    let deliveriesPerRequest: number | null = null;
    if (monitor) {
      const before = await deliveredTo(monitor, 'tool-runner');
      for (let i = 0; i < 200; i++) await series[0]!.call();
      deliveriesPerRequest = round(((await deliveredTo(monitor, 'tool-runner')) - before) / 200, 2);
    }

    let profiles: { client: ProfileSummary; server: ProfileSummary | undefined } | undefined;
    if (PROFILE) {
      const windowStartUs = profileClockUs();
      const { profile: clientProfile } = await profileSelf(() =>
        requestContext.run({ correlationId: 'bench-correlation', tenantId: 'bench-team' }, async () => {
          for (let i = 0; i < PROFILE_CALLS; i++) await series[0]!.call();
        }),
      );
      const windowEndUs = profileClockUs();
      await platform.stopService('tool-runner'); // the preload writes the profile on exit
      const [serverProfile] = readProfiles(profileDir);
      // Kept for a closer look in Chrome DevTools / speedscope (git-ignored, like every result).
      writeFileSync(join(RESULTS_DIR, 'messaging-client.cpuprofile'), JSON.stringify(clientProfile));
      if (serverProfile) writeFileSync(join(RESULTS_DIR, 'messaging-tool-runner.cpuprofile'), JSON.stringify(serverProfile));
      profiles = {
        client: summarizeProfile(clientProfile, { top: 15 }),
        server: serverProfile ? summarizeProfile(serverProfile, { windowStartUs, windowEndUs, top: 15 }) : undefined,
      };
    }

    const summaries = Object.fromEntries(series.map((s) => [s.name, summarizeLatencyMs(s.samplesMs)])) as Record<SeriesName, LatencySummary>;
    const ours = summaries.ours;
    const raw = summaries.raw;
    const ratios = {
      median: ratio(ours.medianUs, raw.medianUs),
      p99: ratio(ours.p99Us, raw.p99Us),
    };
    const goals = [goal('lib request-reply median ≤ 1.3× raw nats', ratios.median, GOAL_MEDIAN_RATIO, '×')];
    // CPU per call on each end, and the lib's extra CPU against the raw series.
    const cpuPerCall = Object.fromEntries(
      series.map((s) => [
        s.name,
        {
          clientUs: round(s.cpu.clientUs / s.samplesMs.length, 1),
          serverUs: round(s.cpu.serverUs / s.samplesMs.length, 1),
          totalUs: round((s.cpu.clientUs + s.cpu.serverUs) / s.samplesMs.length, 1),
        },
      ]),
    ) as Record<SeriesName, { clientUs: number; serverUs: number; totalUs: number }>;
    const split = {
      clientSideMedianUs: round(summaries.libClientToRawServer.medianUs - raw.medianUs, 1),
      serverSideMedianUs: round(summaries.rawClientToService.medianUs - raw.medianUs, 1),
      totalExtraMedianUs: round(ours.medianUs - raw.medianUs, 1),
    };

    recordResult({
      benchmark: 'messaging',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        subject: def.subject,
        server: 'tool-runner from dist/ (launchPlatform), LOG_LEVEL default, no OTLP endpoint',
        callsPerSeries: CALLS_PER_SERIES,
        warmupCallsPerSeries: WARMUP_CALLS,
        blocks: BLOCKS,
        interleaving: 'each block runs every series in turn, the order rotating block by block',
        requestBytes: requestBytes.length,
        replyBytes: replyBytes.length,
        timer: 'performance.now() around each awaited call, in the calling process',
      },
      results: {
        series: Object.fromEntries(series.map((s) => [s.name, { description: s.description, ...summaries[s.name] }])),
        ratioOursToRaw: ratios,
        extraLatencySplit: split,
        cpuPerCallUs: cpuPerCall,
        cpuRatioOursToRaw: ratio(cpuPerCall.ours.totalUs, cpuPerCall.raw.totalUs),
        idleServerCpuMsPerSecond: idleCpuMsPerSecond,
        serverHandlerMeanUs,
        serverHandlerMedianAtMostUs,
        serverHandlerShareUnder,
        deliveriesPerRequestToService: deliveriesPerRequest,
        breakdownUsPerCall: breakdown,
        ...(profiles ? { cpuProfiles: profiles } : {}),
      },
      goals,
    });

    print(
      `\nmessaging request-reply — ${def.subject}, request ${requestBytes.length} B, reply ${replyBytes.length} B, ${CALLS_PER_SERIES} calls/series in ${BLOCKS} interleaved blocks (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`,
    );
    print(
      formatTable(
        ['series', 'median µs', 'p90 µs', 'p99 µs', 'min µs', 'max µs', 'median ×raw', 'p99 ×raw'],
        series.map((s) => {
          const x = summaries[s.name];
          return [s.name, x.medianUs, x.p90Us, x.p99Us, x.minUs, x.maxUs, ratio(x.medianUs, raw.medianUs), ratio(x.p99Us, raw.p99Us)];
        }),
      ),
    );
    print(
      `\nCPU per call (µs, both ends; idle, tool-runner used ${idleCpuMsPerSecond.toolRunner} ms/s and the raw server ${idleCpuMsPerSecond.raw} ms/s):\n${formatTable(
        ['series', 'client', 'server', 'total', 'total ×raw'],
        series.map((s) => {
          const c = cpuPerCall[s.name];
          return [s.name, c.clientUs, c.serverUs, c.totalUs, ratio(c.totalUs, cpuPerCall.raw.totalUs)];
        }),
      )}`,
    );
    print(
      `\nextra latency at the median: ${split.totalExtraMedianUs} µs = client side ~${split.clientSideMedianUs} µs + server side ~${split.serverSideMedianUs} µs; tool-runner's own handler time: mean ${serverHandlerMeanUs} µs, median ≤ ${serverHandlerMedianAtMostUs ?? '?'} µs (histogram bucket); nats-server delivered ${deliveriesPerRequest ?? '?'} message(s) to tool-runner per request`,
    );
    print(
      `\nCPU per call of each step the lib adds (in-process, µs):\n${formatTable(
        ['side', 'step', 'µs/call'],
        breakdown.map((b) => [b.side, b.step, b.usPerCall]),
      )}`,
    );
    if (profiles) {
      for (const [side, summary] of Object.entries(profiles)) {
        if (!summary) continue;
        print(`\nCPU profile, ${side} side (${PROFILE_CALLS} lib calls, ${summary.sampledMs} ms of CPU sampled, idle excluded)`);
        print(
          formatTable(
            ['package', 'self %'],
            summary.byPackage.map((x) => [x.name, x.selfPct]),
          ),
        );
        print(
          formatTable(
            ['function (self)', 'self %'],
            summary.topSelf.map((x) => [x.name, x.selfPct]),
          ),
        );
        print(
          formatTable(
            ['function (inclusive)', 'incl %'],
            summary.topInclusive.map((x) => [x.name, x.inclusivePct]),
          ),
        );
      }
    }
    print(`\ngoals:\n${formatGoals(goals)}\n`);
    await tracing.shutdown();
  });
});

import { SERVICE_NAMES, type ServiceName } from '@overskill/contracts';
import { freePort, runAllMigrations, serviceEntry, serviceNodeFlags } from '@overskill/testing';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { isRunning, spawnTracked, stopChild } from './support/child-process';
import { treeCpuSeconds } from './support/process-cpu';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult, RESULTS_DIR, type GoalResult } from './support/results';
import { median, ratio, round } from './support/stats';

// Each service started alone (nothing else of ours running, so it has the 2 cores to itself):
// spawn → first 200 from GET /health/ready, the bootMs it logs itself, and its resident memory
// after 5 s idle. Against a bare Fastify server started, polled and measured the same way.
// Benchmarks report; they fail only on a functional error (a service that never becomes ready).

const REPETITIONS = Number(process.env.BENCH_BOOT_REPETITIONS ?? 3);
const POLL_MS = 20;
const IDLE_MS = Number(process.env.BENCH_BOOT_IDLE_MS ?? 5000);
const READY_TIMEOUT_MS = 60_000;
const GOAL_READY_MS = 1500;
const GOAL_RSS_MB = 150;
// BENCH_CPU_PROFILE=1: every service start runs under V8's profiler (node --cpu-prof); the
// .cpuprofile files land in tests/bench/results/boot-profiles/ (figures then carry its cost).
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE === '1' ? join(RESULTS_DIR, 'boot-profiles') : undefined;
// BENCH_BOOT_BEFORE_ROOT=<a built checkout of another commit, with its node_modules>: its services
// start in the same rounds as this one's ("before:<name>"), so a change is compared under one load.
const BEFORE_ROOT = process.env.BENCH_BOOT_BEFORE_ROOT || undefined;
// BENCH_BOOT_SERVICES=gateway,orchestrator: only these (all by default).
const SERVICES: readonly ServiceName[] = process.env.BENCH_BOOT_SERVICES
  ? SERVICE_NAMES.filter((s) => process.env.BENCH_BOOT_SERVICES!.split(',').includes(s))
  : SERVICE_NAMES;

// The baseline: Fastify, one route, the port picked by the OS and printed once listening.
const FASTIFY_BASELINE = `
const fastify = require('fastify')({ logger: false });
fastify.get('/health/ready', async () => ({ status: 'ok' }));
fastify.listen({ host: '127.0.0.1', port: 0 }).then(() => {
  process.stdout.write(JSON.stringify({ message: 'baseline ready', port: fastify.server.address().port, processUptimeMs: Math.round(process.uptime() * 1000) }) + '\\n');
});
process.once('SIGTERM', () => fastify.close().then(() => process.exit(0)));
`;

type Subject = ServiceName | 'fastify-baseline' | `before:${ServiceName}`;

const serviceOf = (subject: Exclude<Subject, 'fastify-baseline'>): ServiceName => subject.replace(/^before:/, '') as ServiceName;

interface BootSample {
  spawnToReadyMs: number;
  // CPU (user + system) the process had spent when it first answered ready: on a shared machine
  // the wall time moves with the load, the CPU a start costs hardly does.
  cpuToReadyMs: number;
  // What the process logged on its "ready" line: Nest bootstrap only (bootMs), and since the
  // process started (processUptimeMs, module loading included).
  bootMs: number | null;
  processUptimeMs: number | null;
  rssMb: number;
  hwmMb: number;
  // What the ready line says of the compile cache: modules it served, and compiled.
  compileCache?: unknown;
}

interface Started extends Captured {
  child: ChildProcess;
  port: () => number | undefined;
}

interface Captured {
  lines: Array<Record<string, unknown>>;
  tail: () => string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no ${field} in /proc/${pid}/status`);
  return round(kb / 1024, 1);
}

// stdout parsed as JSON lines (pino), everything also appended to the subject's log file.
function captureOutput(child: ChildProcess, logFile: string): Captured {
  const log = createWriteStream(logFile, { flags: 'a' });
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  let recent = '';
  const keep = (chunk: Buffer) => {
    recent = (recent + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    keep(chunk);
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    keep(chunk);
  });
  child.once('exit', () => log.end());
  return { lines, tail: () => recent };
}

describe('benchmark: service boot time and idle memory', () => {
  const stack = integrationStack();
  const live = new Set<ChildProcess>();

  afterAll(async () => {
    for (const child of live) await stopChild(child);
  });

  it('starts each service alone, three times, against a bare Fastify baseline', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-boot');
    const workspacesDir = join(dir, 'workspaces');
    const backupDir = join(dir, 'backups');
    const logDir = join(dir, 'logs');
    for (const d of [workspacesDir, backupDir, logDir]) mkdirSync(d, { recursive: true });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    for (const service of SERVICES) {
      if (!existsSync(serviceEntry(REPO_ROOT, service))) throw new Error(`${serviceEntry(REPO_ROOT, service)} is missing: run node deploy/local/build.mjs`);
    }

    const start = async (subject: Subject): Promise<Started> => {
      if (subject === 'fastify-baseline') {
        const child = spawnTracked(process.execPath, ['-e', FASTIFY_BASELINE], { cwd: REPO_ROOT, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        const output = captureOutput(child, join(logDir, `${subject}.log`));
        return { child, ...output, port: () => output.lines.find((l) => l.message === 'baseline ready')?.port as number | undefined };
      }
      const service = serviceOf(subject);
      const root = subject.startsWith('before:') ? BEFORE_ROOT! : REPO_ROOT;
      const port = await freePort();
      // The environment launchPlatform gives a service, plus an Anthropic key so ai-router boots
      // configured as in production (it builds its SDK client at start; nothing is called).
      const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
      // The before checkout may predate deploy/docker/node-flags: it starts as it did then.
      const flags = existsSync(join(root, 'deploy', 'docker', 'node-flags')) ? serviceNodeFlags(root) : [];
      const child = spawnTracked(process.execPath, [...flags, ...profile, serviceEntry(root, service)], {
        cwd: root,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          HOST: '127.0.0.1',
          NATS_URL: stack.natsUrl,
          NATS_NKEY_SEED: stack.natsSeeds[service],
          DATABASE_URL: stack.databaseUrl,
          REDIS_URL: stack.redisUrl,
          WORKSPACES_DIR: workspacesDir,
          BACKUP_DIR: backupDir,
          ANTHROPIC_API_KEY: 'bench-key',
          ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
          // The bench's own compile cache: empty for each subject's first (cold) start.
          OVERSKILL_COMPILE_CACHE_DIR: join(dir, 'compile-cache'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { child, ...captureOutput(child, join(logDir, `${subject}.log`)), port: () => port };
    };

    const measure = async (subject: Subject): Promise<BootSample> => {
      const t0 = performance.now();
      const started = await start(subject);
      live.add(started.child);
      try {
        // Polled on a fixed 20 ms grid from the spawn, the same for every subject.
        let spawnToReadyMs: number | undefined;
        let cpuToReadyMs = 0;
        for (let tick = 1; spawnToReadyMs === undefined; tick++) {
          if (!isRunning(started.child))
            throw new Error(`${subject} exited (${started.child.exitCode ?? started.child.signalCode}) before it was ready:\n${started.tail()}`);
          if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`${subject} was not ready within ${READY_TIMEOUT_MS} ms:\n${started.tail()}`);
          const port = started.port();
          if (port !== undefined) {
            try {
              const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
              await res.arrayBuffer();
              if (res.status === 200) {
                spawnToReadyMs = performance.now() - t0;
                cpuToReadyMs = treeCpuSeconds(started.child.pid) * 1000;
              }
            } catch {
              // not listening yet
            }
          }
          if (spawnToReadyMs === undefined) await sleep(Math.max(0, t0 + tick * POLL_MS - performance.now()));
        }
        // The ready line may trail the first 200 by a moment (stdout is a pipe).
        const readyMsg = subject === 'fastify-baseline' ? 'baseline ready' : `${serviceOf(subject)} ready`;
        for (let i = 0; i < 50 && !started.lines.some((l) => l.message === readyMsg); i++) await sleep(20);
        const ready = started.lines.find((l) => l.message === readyMsg);
        if (subject !== 'fastify-baseline' && !ready) throw new Error(`${subject} answered ready but logged no "${readyMsg}" line`);

        await sleep(IDLE_MS);
        if (!isRunning(started.child)) throw new Error(`${subject} exited while idle:\n${started.tail()}`);
        const pid = started.child.pid!;
        return {
          spawnToReadyMs: round(spawnToReadyMs, 1),
          cpuToReadyMs: round(cpuToReadyMs, 0),
          bootMs: typeof ready?.bootMs === 'number' ? ready.bootMs : null,
          processUptimeMs: typeof ready?.processUptimeMs === 'number' ? ready.processUptimeMs : null,
          rssMb: procStatusMb(pid, 'VmRSS'),
          hwmMb: procStatusMb(pid, 'VmHWM'),
          ...(ready?.compileCache !== undefined ? { compileCache: ready.compileCache } : {}),
        };
      } finally {
        await stopChild(started.child);
        live.delete(started.child);
      }
    };

    // Rounds: every subject once per round, the order rotating, so a slow patch of the shared
    // machine does not land on one subject's three runs.
    const subjects: Subject[] = ['fastify-baseline', ...SERVICES];
    if (BEFORE_ROOT) {
      for (const service of SERVICES) {
        if (!existsSync(serviceEntry(BEFORE_ROOT, service)))
          throw new Error(`${serviceEntry(BEFORE_ROOT, service)} is missing: build BENCH_BOOT_BEFORE_ROOT first`);
      }
      subjects.push(...SERVICES.map((service) => `before:${service}` as const));
    }
    const samples = new Map<Subject, BootSample[]>(subjects.map((s) => [s, []]));
    // First start of each service, with nothing in the compile cache (the first start of a new
    // build or container); it fills the cache the measured rounds then start from.
    const cold = new Map<Subject, BootSample>();
    for (const subject of subjects) if (subject !== 'fastify-baseline') cold.set(subject, await measure(subject));
    for (let round_ = 0; round_ < REPETITIONS; round_++) {
      for (let k = 0; k < subjects.length; k++) {
        const subject = subjects[(round_ * 3 + k) % subjects.length]!;
        samples.get(subject)!.push(await measure(subject));
      }
    }

    const medianOf = (s: Subject, key: keyof BootSample): number | null => {
      const values = samples
        .get(s)!
        .map((x) => x[key])
        .filter((v): v is number => typeof v === 'number');
      return values.length ? round(median(values), 1) : null;
    };
    const medianOfRuns = (s: Subject, pick: (x: BootSample) => number | null): number | null => {
      const values = samples
        .get(s)!
        .map(pick)
        .filter((v): v is number => v !== null);
      return values.length ? round(median(values), 1) : null;
    };
    const baseline = {
      spawnToReadyMs: medianOf('fastify-baseline', 'spawnToReadyMs')!,
      cpuToReadyMs: medianOf('fastify-baseline', 'cpuToReadyMs')!,
      rssMb: medianOf('fastify-baseline', 'rssMb')!,
      processUptimeMs: medianOf('fastify-baseline', 'processUptimeMs'),
    };
    const summarize = (service: Exclude<Subject, 'fastify-baseline'>) => {
      const spawnToReadyMs = medianOf(service, 'spawnToReadyMs')!;
      const rssMb = medianOf(service, 'rssMb')!;
      const cpuToReadyMs = medianOf(service, 'cpuToReadyMs')!;
      return {
        service,
        spawnToReadyMs,
        cpuToReadyMs,
        cpuRatioToBaseline: ratio(cpuToReadyMs, baseline.cpuToReadyMs),
        bootMs: medianOf(service, 'bootMs'),
        processUptimeMs: medianOf(service, 'processUptimeMs'),
        // Process start → bootstrapService() entered: Node start-up and loading the modules.
        beforeBootMs: medianOfRuns(service, (x) => (x.processUptimeMs !== null && x.bootMs !== null ? x.processUptimeMs - x.bootMs : null)),
        rssMb,
        hwmMb: medianOf(service, 'hwmMb'),
        readyRatioToBaseline: ratio(spawnToReadyMs, baseline.spawnToReadyMs),
        rssRatioToBaseline: ratio(rssMb, baseline.rssMb),
        coldCache: cold.get(service),
        runs: samples.get(service),
      };
    };
    const perService = SERVICES.map((service) => summarize(service));
    const before = BEFORE_ROOT ? SERVICES.map((service) => summarize(`before:${service}`)) : [];
    const goals: GoalResult[] = perService.flatMap((s) => [
      goal(`${s.service} spawn → ready (median)`, s.spawnToReadyMs, GOAL_READY_MS, ' ms'),
      goal(`${s.service} idle RSS (median)`, s.rssMb, GOAL_RSS_MB, ' MB'),
    ]);

    recordResult({
      benchmark: 'service-boot',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        repetitions: REPETITIONS,
        pollIntervalMs: POLL_MS,
        idleBeforeRssMs: IDLE_MS,
        order: 'rounds: every subject once per round, alone, the order rotating round by round',
        ready: 'first 200 from GET /health/ready, timed from just before spawn() in the bench process',
        cpu: 'utime + stime of the process (and its children) from /proc/<pid>/stat when it first answered ready (10 ms ticks)',
        memory: 'VmRSS (and peak VmHWM) from /proc/<pid>/status after the idle period',
        compileCache: 'a directory of its own; each service starts once with it empty (coldCache, not in the medians), then the rounds',
        services:
          'dist/services/<name>/src/main.js, NODE_ENV=production, LOG_LEVEL default, no OTLP endpoint; infra (nats, postgres, redis) already running, migrations applied',
        baseline: 'node -e: require("fastify"), one route, listen 127.0.0.1:0, port printed when listening',
      },
      results: {
        baseline: { ...baseline, runs: samples.get('fastify-baseline') },
        services: perService,
        ...(BEFORE_ROOT ? { before: { root: BEFORE_ROOT, services: before } } : {}),
      },
      goals,
    });

    print(`\nservice boot — each alone, median of ${REPETITIONS} (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`);
    print(
      formatTable(
        [
          'service',
          'spawn→ready ms',
          'cold cache ms',
          'CPU to ready ms',
          'uptime@ready ms',
          'bootMs (logged)',
          'before boot ms',
          'idle RSS MB',
          'peak RSS MB',
          'ready ×base',
          'CPU ×base',
          'RSS ×base',
        ],
        [
          [
            'fastify-baseline',
            baseline.spawnToReadyMs,
            '-',
            baseline.cpuToReadyMs,
            baseline.processUptimeMs ?? '-',
            '-',
            '-',
            baseline.rssMb,
            medianOf('fastify-baseline', 'hwmMb') ?? '-',
            1,
            1,
            1,
          ],
          ...[...perService, ...before].map((s) => [
            s.service,
            s.spawnToReadyMs,
            s.coldCache?.spawnToReadyMs ?? '-',
            s.cpuToReadyMs,
            s.processUptimeMs ?? '-',
            s.bootMs ?? '-',
            s.beforeBootMs ?? '-',
            s.rssMb,
            s.hwmMb ?? '-',
            s.readyRatioToBaseline,
            s.cpuRatioToBaseline,
            s.rssRatioToBaseline,
          ]),
        ],
      ),
    );
    print(
      "cold cache: the first start, its compile cache empty (not in the medians); uptime@ready: the process's own uptime on its ready line; bootMs: bootstrapService() alone; before boot: the difference (Node start-up + module loading)",
    );
    print(`\ngoals (ready ≤ ${GOAL_READY_MS} ms, idle RSS ≤ ${GOAL_RSS_MB} MB):\n${formatGoals(goals)}\n`);
  });
});

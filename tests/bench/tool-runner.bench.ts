import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult } from './support/results';
import { processCpuSeconds } from './support/process-cpu';
import { median, percentile, ratio, round, summarizeLatencyMs } from './support/stats';

// 1. search_files through NATS (tool-runner from dist/, ripgrep underneath) over a generated
//    workspace of 10,000 files / 100 MB, against `rg` run directly on the same tree with the
//    same file selection, interleaved in the same run: ratio of medians (goal ≤ 2).
// 2. write_file / read_file of a 10 KB file through NATS: median and p99.
// 3. That read back to back and after an idle pause of PAUSE_MS (about what a step's other calls
//    leave tool-runner idle for): the same work, the latency and tool-runner's CPU per call of each.
// Benchmarks report; they fail only on a functional error (a wrong or missing answer).

const FILES = Number(process.env.BENCH_TOOL_FILES ?? 10_000);
const TOTAL_BYTES = Number(process.env.BENCH_TOOL_BYTES ?? 100 * 1024 * 1024);
const SEARCH_ROUNDS = Number(process.env.BENCH_TOOL_SEARCH_ROUNDS ?? 15);
const ROUND_TRIPS = Number(process.env.BENCH_TOOL_ROUND_TRIPS ?? 1000);
const GOAL_SEARCH_RATIO = 2;
const NEEDLE_EVERY = 200; // 50 files of 10,000 hold the rare identifier
// The read back to back and after an idle pause, in alternating blocks.
const PAUSE_MS = 5;
const PAUSE_BLOCKS = 10;
const PAUSE_CALLS_PER_BLOCK = 50;

// Deterministic source-like text (a small LCG), so every run searches the same tree.
function* words(seed: number): Generator<string> {
  const vocabulary = [
    'const',
    'let',
    'return',
    'function',
    'value',
    'items',
    'index',
    'render',
    'state',
    'props',
    'await',
    'fetchData',
    'result',
    'error',
    'config',
    'handler',
    'export',
    'import',
    'default',
    'string',
  ];
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    // The high bits: an LCG's low bits repeat with a short period.
    yield vocabulary[(x >>> 16) % vocabulary.length] ?? 'x';
  }
}

function generateTree(root: string): { bytes: number; needleFiles: number } {
  const perFile = Math.floor(TOTAL_BYTES / FILES);
  let bytes = 0;
  let needleFiles = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, 'src', `module-${Math.floor(i / 100)}`, i % 3 === 0 ? 'components' : 'lib');
    if (i % 100 === 0 || i % 100 === 1 || i % 100 === 2) mkdirSync(dir, { recursive: true });
    const gen = words(i + 1);
    const lines: string[] = [];
    let size = 0;
    let n = 0;
    while (size < perFile) {
      const line = `  ${gen.next().value} ${gen.next().value}_${n} = ${gen.next().value}(${n}, "${gen.next().value}");`;
      lines.push(line);
      size += line.length + 1;
      n += 1;
    }
    if (i % NEEDLE_EVERY === 0) {
      lines.splice(Math.floor(lines.length / 2), 0, `  const token = computeRareChecksum(${i});`);
      needleFiles += 1;
    }
    const content = `${lines.join('\n')}\n`;
    writeFileSync(join(dir, `file-${i}.ts`), content);
    bytes += Buffer.byteLength(content);
  }
  return { bytes, needleFiles };
}

function runRipgrep(cwd: string, pattern: string): Promise<{ ms: number; matches: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      'rg',
      ['--no-config', '--hidden', '--no-ignore', '--line-number', '--glob', '!.git', '--glob', '!node_modules', '--regexp', pattern, '.'],
      { cwd, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) lines += 1;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 || code === 1 ? resolve({ ms: performance.now() - started, matches: lines }) : reject(new Error(`rg exited ${code}`)),
    );
  });
}

describe('benchmark: tool-runner', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let nc: NatsConnection | undefined;
  let dir = '';

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('search_files vs ripgrep, and the file round trip through NATS', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    dir = scratchDir(stack.dataDir, 'bench-tool-runner');
    const appId = randomUUID();
    const root = join(dir, 'workspaces', appId);
    mkdirSync(root, { recursive: true });
    const genStarted = performance.now();
    const tree = generateTree(root);
    const generateMs = performance.now() - genStarted;

    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      services: ['tool-runner'],
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'bench-tool-runner', stackNatsCredentials(stack));
    const client = new NatsRpcClient(nc, createServiceMetrics('bench-tool-runner'), 120_000);
    const call = async (name: string, input: unknown) => {
      const reply = await client.send(
        Rpc.toolCallExecute,
        { teamId: 'bench', appId, runId: 'bench', toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) },
        { timeoutMs: 120_000 },
      );
      if (reply.isError) throw new Error(`${name} failed: ${reply.output}`);
      return reply;
    };

    // Scenarios: a rare identifier (50 files), a regex over every file (caps at 100 lines), a miss.
    const scenarios = [
      { name: 'rare', pattern: 'computeRareChecksum\\(\\d+\\)', expectLines: tree.needleFiles },
      { name: 'common', pattern: '_\\d+ = render\\(', expectLines: 100 },
      { name: 'none', pattern: 'thisIdentifierIsNowhere', expectLines: 0 },
    ];
    const samples: Record<string, { ours: number[]; rg: number[]; rgMatches: number }> = {};
    for (const s of scenarios) {
      samples[s.name] = { ours: [], rg: [], rgMatches: 0 };
      // Warm the page cache and both paths once.
      await runRipgrep(root, s.pattern);
      const first = await call('search_files', { pattern: s.pattern });
      const shown = first.output.split('\n').filter((l) => /^src\/.+:\d+: /.test(l)).length;
      if (shown !== s.expectLines) throw new Error(`${s.name}: search_files showed ${shown} lines, expected ${s.expectLines}: ${first.output.slice(0, 300)}`);
    }
    for (let round = 0; round < SEARCH_ROUNDS; round++) {
      for (const s of scenarios) {
        const pair = [
          async () => samples[s.name]!.rg.push(...[await runRipgrep(root, s.pattern)].map((r) => ((samples[s.name]!.rgMatches = r.matches), r.ms))),
          async () => {
            const t0 = performance.now();
            await call('search_files', { pattern: s.pattern });
            samples[s.name]!.ours.push(performance.now() - t0);
          },
        ];
        // Alternate who goes first, so neither always meets a warmer cache.
        if (round % 2 === 0) pair.reverse();
        for (const step of pair) await step();
      }
    }

    // write_file / read_file round trip of 10 KB.
    const content = 'x'.repeat(10 * 1024 - 1) + '\n';
    for (let i = 0; i < 100; i++) {
      await call('write_file', { path: 'bench/roundtrip.txt', content });
      await call('read_file', { path: 'bench/roundtrip.txt' });
    }
    const writes: number[] = [];
    const reads: number[] = [];
    const pairs: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t0 = performance.now();
      await call('write_file', { path: 'bench/roundtrip.txt', content });
      const t1 = performance.now();
      const read = await call('read_file', { path: 'bench/roundtrip.txt' });
      const t2 = performance.now();
      if (read.output.length !== content.length) throw new Error('read_file returned the wrong content');
      writes.push(t1 - t0);
      reads.push(t2 - t1);
      pairs.push(t2 - t0);
    }

    // The same read with and without an idle pause before it, alternating which goes first.
    const toolRunnerPid = platform.pids()['tool-runner'];
    const paced = { back: { ms: [] as number[], cpuSeconds: 0 }, paused: { ms: [] as number[], cpuSeconds: 0 } };
    for (let block = 0; block < PAUSE_BLOCKS; block++) {
      for (const kind of block % 2 === 0 ? (['back', 'paused'] as const) : (['paused', 'back'] as const)) {
        const cpuBefore = processCpuSeconds(toolRunnerPid);
        for (let i = 0; i < PAUSE_CALLS_PER_BLOCK; i++) {
          if (kind === 'paused') await new Promise((r) => setTimeout(r, PAUSE_MS));
          const t0 = performance.now();
          await call('read_file', { path: 'bench/roundtrip.txt' });
          paced[kind].ms.push(performance.now() - t0);
        }
        paced[kind].cpuSeconds += processCpuSeconds(toolRunnerPid) - cpuBefore;
      }
    }
    const pacedCalls = PAUSE_BLOCKS * PAUSE_CALLS_PER_BLOCK;
    const pacedFigures = (k: keyof typeof paced) => ({
      medianMs: round(median(paced[k].ms), 3),
      p90Ms: round(percentile(paced[k].ms, 90), 3),
      toolRunnerCpuMsPerCall: round((paced[k].cpuSeconds / pacedCalls) * 1000, 3),
    });
    const pause = { back: pacedFigures('back'), paused: pacedFigures('paused') };

    const searchResults = Object.fromEntries(
      scenarios.map((s) => {
        const x = samples[s.name]!;
        return [
          s.name,
          {
            pattern: s.pattern,
            linesShown: s.expectLines,
            rgLines: x.rgMatches,
            oursMedianMs: round(median(x.ours), 1),
            oursP90Ms: round(percentile(x.ours, 90), 1),
            rgMedianMs: round(median(x.rg), 1),
            rgP90Ms: round(percentile(x.rg, 90), 1),
            ratio: ratio(median(x.ours), median(x.rg)),
          },
        ];
      }),
    );
    const roundTrip = { write: summarizeLatencyMs(writes), read: summarizeLatencyMs(reads), writeThenRead: summarizeLatencyMs(pairs) };
    const goals = scenarios.map((s) =>
      goal(`search_files "${s.name}" within ${GOAL_SEARCH_RATIO}x of rg (ratio of medians)`, searchResults[s.name]!.ratio, GOAL_SEARCH_RATIO, '×'),
    );

    print('\nsearch_files (NATS → tool-runner → rg + checked reads) vs rg directly, same tree, interleaved');
    print(
      formatTable(
        ['scenario', 'ours median ms', 'ours p90', 'rg median ms', 'rg p90', 'ratio'],
        scenarios.map((s) => {
          const r = searchResults[s.name]!;
          return [s.name, r.oursMedianMs, r.oursP90Ms, r.rgMedianMs, r.rgP90Ms, `${r.ratio}×`];
        }),
      ),
    );
    print('\n10 KB file through NATS (µs)');
    print(
      formatTable(
        ['call', 'median', 'p90', 'p99', 'max'],
        (['write', 'read', 'writeThenRead'] as const).map((k) => [k, roundTrip[k].medianUs, roundTrip[k].p90Us, roundTrip[k].p99Us, roundTrip[k].maxUs]),
      ),
    );
    print(
      `\nthe 10 KB read back to back: median ${pause.back.medianMs} ms, tool-runner ${pause.back.toolRunnerCpuMsPerCall} ms of CPU per call; ` +
        `after a ${PAUSE_MS} ms idle pause: median ${pause.paused.medianMs} ms (${ratio(pause.paused.medianMs, pause.back.medianMs)}×), ` +
        `${pause.paused.toolRunnerCpuMsPerCall} ms of CPU per call (${ratio(pause.paused.toolRunnerCpuMsPerCall, pause.back.toolRunnerCpuMsPerCall)}×)`,
    );
    print(formatGoals(goals));

    recordResult({
      benchmark: 'tool-runner',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        tree: {
          files: FILES,
          bytes: tree.bytes,
          generateMs: round(generateMs, 0),
          layout: '100 modules × (components|lib), ~10 KB TypeScript-like files',
          rareMatchFiles: tree.needleFiles,
        },
        ours: 'NatsRpcClient → tool.call.execute.v1 search_files (tool-runner from dist/, TOOL_SEARCH_ENGINE=auto → ripgrep files-with-matches, then lines read through the checked workspace reads)',
        baseline:
          'rg --no-config --hidden --no-ignore --line-number --glob !.git --glob !node_modules PATTERN . (spawned from the bench process, output counted)',
        rounds: SEARCH_ROUNDS,
        interleaving: 'per round, each scenario runs rg and search_files back to back, the order alternating by round; one warm-up each first',
        roundTrips: ROUND_TRIPS,
        roundTripWarmup: 100,
        fileBytes: content.length,
        idlePause: {
          pauseMs: PAUSE_MS,
          blocks: PAUSE_BLOCKS,
          callsPerBlock: PAUSE_CALLS_PER_BLOCK,
          order: 'back to back and paused blocks alternate which goes first',
        },
      },
      results: { search: searchResults, roundTrip, idlePause: pause },
      goals,
    });
    expect(goals).toHaveLength(3);
  });
});

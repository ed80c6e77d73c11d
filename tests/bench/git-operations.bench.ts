import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { treeCpuSeconds } from './support/process-cpu';
import { formatTable, machineInfo, print, recordResult } from './support/results';
import { ratio, summarizeLatencyMs, type LatencySummary } from './support/stats';

// git-service through NATS (client → nats-server → git-service: protobuf, app lock in Redis,
// stale-lock check, simple-git) against the same git commands run directly, on the same
// repository, interleaved call by call in the same run. Reports; fails only on a wrong answer.

const COMMITS = Number(process.env.BENCH_GIT_COMMITS ?? 150);
const LOGS = Number(process.env.BENCH_GIT_LOGS ?? 60);
const HEAD_BLOCKS = Number(process.env.BENCH_GIT_HEAD_BLOCKS ?? 10);
const HEAD_BLOCK_CALLS = 30;
const WARMUP = 10;
const LOG_COMMITS = 1000;
// What git-service asks git for, so the baseline parses nothing less.
const LOG_FORMAT = '%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%(trailers:key=Restored-From,valueonly,separator=%x2C)%x1f%s';
const run = promisify(execFile);

describe('benchmark: git operations through NATS vs plain git', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let nc: NatsConnection | undefined;

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('measures a 1-file commit, a 1,000-commit log and the HEAD a run starts from', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const dir = scratchDir(stack.dataDir, 'bench-git');
    const workspaces = join(dir, 'workspaces');
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['git-service'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'bench-git', stackNatsCredentials(stack));
    const rpc = new NatsRpcClient(nc, createServiceMetrics('bench-git'), 30_000);
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    const repo = join(workspaces, appId);
    const env = {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Bench',
      GIT_AUTHOR_EMAIL: 'bench@x.test',
      GIT_COMMITTER_NAME: 'Bench',
      GIT_COMMITTER_EMAIL: 'bench@x.test',
    };
    const git = (...args: string[]) => run('git', args, { cwd: repo, env, maxBuffer: 64 * 1024 * 1024 });
    const time = async (fn: () => Promise<void>, samples: number[]) => {
      const started = performance.now();
      await fn();
      samples.push(performance.now() - started);
    };

    // Commit: one file changed, then commit — alternating ours and plain git on one repository.
    const commit = { ours: [] as number[], baseline: [] as number[] };
    for (let i = 0; i < COMMITS + WARMUP; i++) {
      const warm = i < WARMUP;
      writeFileSync(join(repo, 'page.html'), `<p>ours ${i}</p>\n`);
      await time(
        async () => {
          const reply = await rpc.send(Rpc.gitRepoCommit, { appId, message: `ours ${i}`, authorName: 'Bench', authorEmail: 'bench@x.test' });
          if (!reply.created || reply.filesChanged !== 1) throw new Error(`commit ${i} through NATS created nothing`);
        },
        warm ? [] : commit.ours,
      );
      writeFileSync(join(repo, 'page.html'), `<p>plain ${i}</p>\n`);
      await time(
        async () => {
          await git('add', '-A');
          await git('commit', '-q', '-m', `plain ${i}`);
        },
        warm ? [] : commit.baseline,
      );
    }
    const commitsMade = Number((await git('rev-list', '--count', 'HEAD')).stdout.trim());
    expect(commitsMade).toBe(1 + 2 * (COMMITS + WARMUP));

    // Log: 1,000 commits with the fields git-service returns, from the same repository.
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const stream = Array.from({ length: LOG_COMMITS }, (_, i) => {
      const message = `Imported change ${i}\n`;
      const content = `line ${i}\n`;
      return `commit refs/heads/main\ncommitter Bench <bench@x.test> ${1_700_000_000 + i} +0000\ndata ${Buffer.byteLength(message)}\n${message}${i === 0 ? `from ${head}\n` : ''}M 100644 inline imported.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`;
    }).join('');
    const imported = spawnSync('git', ['fast-import', '--quiet'], { cwd: repo, input: stream, env });
    if (imported.status !== 0) throw new Error(`fast-import failed: ${imported.stderr}`);
    await git('reset', '-q', '--hard');
    const log = { ours: [] as number[], baseline: [] as number[] };
    for (let i = 0; i < LOGS + WARMUP; i++) {
      const warm = i < WARMUP;
      await time(
        async () => {
          const reply = await rpc.send(Rpc.gitRepoLog, { appId, limit: LOG_COMMITS });
          if (reply.commits.length !== LOG_COMMITS) throw new Error(`log returned ${reply.commits.length} commits`);
        },
        warm ? [] : log.ours,
      );
      await time(
        async () => {
          const out = (await git('log', '-z', `--format=${LOG_FORMAT}`, '-n', String(LOG_COMMITS), 'HEAD')).stdout;
          if (out.split('\0').filter(Boolean).length !== LOG_COMMITS) throw new Error('plain git log returned the wrong count');
        },
        warm ? [] : log.baseline,
      );
    }

    // The commit a run starts from: git.repo.head.v1 (files read in git-service) and
    // git.repo.status.v1 (a `git status`, what callers used for it before), against
    // `git rev-parse HEAD` run directly; blocks rotate the order, git-service's CPU (its git
    // processes included) read around each block.
    const expectedHead = (await git('rev-parse', 'HEAD')).stdout.trim();
    const gitServicePid = platform.pids()['git-service'];
    const headSeries = {
      head: async () => (await rpc.send(Rpc.gitRepoHead, { appId })).headSha,
      status: async () => (await rpc.send(Rpc.gitRepoStatus, { appId })).headSha,
      baseline: async () => (await git('rev-parse', 'HEAD')).stdout.trim(),
    };
    const headSamples = { head: [] as number[], status: [] as number[], baseline: [] as number[] };
    const headCpuMs = { head: 0, status: 0 };
    const names = Object.keys(headSeries) as Array<keyof typeof headSeries>;
    for (let block = -1; block < HEAD_BLOCKS; block++) {
      const warm = block < 0;
      for (let k = 0; k < names.length; k++) {
        const name = names[(Math.max(block, 0) + k) % names.length]!;
        const cpuBefore = treeCpuSeconds(gitServicePid);
        for (let i = 0; i < HEAD_BLOCK_CALLS; i++) {
          await time(
            async () => {
              const sha = await headSeries[name]();
              if (sha !== expectedHead) throw new Error(`${name} answered ${sha}, not ${expectedHead}`);
            },
            warm ? [] : headSamples[name],
          );
        }
        if (!warm && name !== 'baseline') headCpuMs[name] += (treeCpuSeconds(gitServicePid) - cpuBefore) * 1000;
      }
    }
    const headCalls = HEAD_BLOCKS * HEAD_BLOCK_CALLS;
    const headCpuPerCallMs = { head: headCpuMs.head / headCalls, status: headCpuMs.status / headCalls };

    const summaries: Record<string, { ours: LatencySummary; baseline: LatencySummary; ratioOfMedians: number }> = {};
    for (const [name, series] of Object.entries({
      commit,
      log,
      head: { ours: headSamples.head, baseline: headSamples.baseline },
      headByStatus: { ours: headSamples.status, baseline: headSamples.baseline },
    })) {
      const ours = summarizeLatencyMs(series.ours);
      const baseline = summarizeLatencyMs(series.baseline);
      summaries[name] = { ours, baseline, ratioOfMedians: ratio(ours.medianUs, baseline.medianUs) };
    }
    const ms = (us: number) => (us / 1000).toFixed(2);
    recordResult({
      benchmark: 'git-operations',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        server: 'git-service from dist/ (launchPlatform), one replica, LOG_LEVEL warn, Redis app lock',
        commit: `${COMMITS} samples each after ${WARMUP} warm-up: write one file, then git.repo.commit.v1 through NATS vs \`git add -A && git commit -q -m\` run directly; alternating on the same repository`,
        log: `${LOGS} samples each after ${WARMUP} warm-up: git.repo.log.v1 with limit ${LOG_COMMITS} vs \`git log -z --format=<same fields> -n ${LOG_COMMITS}\` run directly, on the same repository (${LOG_COMMITS}+ commits)`,
        head: `${HEAD_BLOCKS} blocks of ${HEAD_BLOCK_CALLS} calls per series after one warm-up block, the order rotating: git.repo.head.v1 and git.repo.status.v1 through NATS vs \`git rev-parse HEAD\` run directly; git-service's CPU (utime + stime of it and its git processes, /proc) around each block`,
        timer: 'performance.now() around each awaited call in the calling process; plain git through child_process.execFile',
      },
      results: { ...summaries, gitServiceCpuPerCallMs: { head: headCpuPerCallMs.head, status: headCpuPerCallMs.status } },
      goals: [],
    });
    print(
      `\ngit operations — ours (NATS → git-service) vs plain git, same repository, interleaved (${machine.cpus} cpus, node ${machine.node}, load ${machine.loadAverage.join(' ')})`,
    );
    print(
      formatTable(
        ['operation', 'ours median ms', 'ours p90 ms', 'git median ms', 'git p90 ms', 'ratio of medians'],
        Object.entries(summaries).map(([name, s]) => [
          name,
          ms(s.ours.medianUs),
          ms(s.ours.p90Us),
          ms(s.baseline.medianUs),
          ms(s.baseline.p90Us),
          `${s.ratioOfMedians}×`,
        ]),
      ),
    );
    print(
      `  git-service CPU per call, its git processes included: head ${headCpuPerCallMs.head.toFixed(3)} ms, status ${headCpuPerCallMs.status.toFixed(3)} ms (${ratio(headCpuPerCallMs.head, headCpuPerCallMs.status)}×)`,
    );
    expect(summaries.commit!.ours.count).toBe(COMMITS);
  });
});

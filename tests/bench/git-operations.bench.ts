import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { reapedChildrenCpuSeconds, treeCpuSeconds } from './support/process-cpu';
import { formatTable, machineInfo, print, recordResult } from './support/results';
import { ratio, summarizeLatencyMs, type LatencySummary } from './support/stats';

// git-service through NATS (client → nats-server → git-service: protobuf, app lock in Redis,
// stale-lock check, simple-git) against the same git commands run directly, on the same
// repository, interleaved call by call in the same run. Reports; fails only on a wrong answer.

const COMMITS = Number(process.env.BENCH_GIT_COMMITS ?? 150);
const LOGS = Number(process.env.BENCH_GIT_LOGS ?? 60);
const BLOCKS = Number(process.env.BENCH_GIT_BLOCKS ?? 10);
const BLOCK_CALLS = 30;
const TREE_FILES = Number(process.env.BENCH_GIT_TREE_FILES ?? 300);
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

  it('measures a 1-file commit, a 1,000-commit log, the HEAD a run starts from and its file tree', async () => {
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
    // git-service's CPU (its git processes included) around each of its commits; the plain
    // commits' git processes from this process's reaped children.
    const gitServicePid = platform.pids()['git-service'];
    const commitCpuMs = { ours: 0, baseline: 0 };
    const commit = { ours: [] as number[], baseline: [] as number[] };
    for (let i = 0; i < COMMITS + WARMUP; i++) {
      const warm = i < WARMUP;
      writeFileSync(join(repo, 'page.html'), `<p>ours ${i}</p>\n`);
      const oursCpuBefore = treeCpuSeconds(gitServicePid);
      await time(
        async () => {
          const reply = await rpc.send(Rpc.gitRepoCommit, { appId, message: `ours ${i}`, authorName: 'Bench', authorEmail: 'bench@x.test' });
          if (!reply.created || reply.filesChanged !== 1) throw new Error(`commit ${i} through NATS created nothing`);
        },
        warm ? [] : commit.ours,
      );
      if (!warm) commitCpuMs.ours += (treeCpuSeconds(gitServicePid) - oursCpuBefore) * 1000;
      writeFileSync(join(repo, 'page.html'), `<p>plain ${i}</p>\n`);
      const plainCpuBefore = reapedChildrenCpuSeconds();
      await time(
        async () => {
          await git('add', '-A');
          await git('commit', '-q', '-m', `plain ${i}`);
        },
        warm ? [] : commit.baseline,
      );
      if (!warm) commitCpuMs.baseline += (reapedChildrenCpuSeconds() - plainCpuBefore) * 1000;
    }
    const commitCpuPerCallMs = { ours: commitCpuMs.ours / COMMITS, baseline: commitCpuMs.baseline / COMMITS };
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

    // Series that answer the same question, in blocks whose order rotates; git-service's CPU
    // (utime + stime of it and its git processes, /proc) read around each block of its series.
    async function interleaved<K extends string>(series: Record<K, () => Promise<string>>, expected: string) {
      const names = Object.keys(series) as K[];
      const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
      const cpuMs = Object.fromEntries(names.map((n) => [n, 0])) as Record<K, number>;
      for (let block = -1; block < BLOCKS; block++) {
        const warm = block < 0;
        for (let k = 0; k < names.length; k++) {
          const name = names[(Math.max(block, 0) + k) % names.length]!;
          const cpuBefore = treeCpuSeconds(gitServicePid);
          for (let i = 0; i < BLOCK_CALLS; i++) {
            await time(
              async () => {
                const answer = await series[name]();
                if (answer !== expected) throw new Error(`${name} answered ${answer.slice(0, 200)}, not ${expected.slice(0, 200)}`);
              },
              warm ? [] : samples[name],
            );
          }
          if (!warm) cpuMs[name] += (treeCpuSeconds(gitServicePid) - cpuBefore) * 1000;
        }
      }
      const cpuPerCallMs = Object.fromEntries(names.map((n) => [n, cpuMs[n] / (BLOCKS * BLOCK_CALLS)])) as Record<K, number>;
      return { samples, cpuPerCallMs };
    }

    // The commit a run starts from: git.repo.head.v1 (files read in git-service) and
    // git.repo.status.v1 (a `git status`, what callers used for it before), against
    // `git rev-parse HEAD` run directly.
    const heads = await interleaved(
      {
        head: async () => (await rpc.send(Rpc.gitRepoHead, { appId })).headSha,
        status: async () => (await rpc.send(Rpc.gitRepoStatus, { appId })).headSha,
        baseline: async () => (await git('rev-parse', 'HEAD')).stdout.trim(),
      },
      (await git('rev-parse', 'HEAD')).stdout.trim(),
    );

    // The agent's file tree on a workspace of TREE_FILES files (some uncommitted):
    // git.worktree.list.v1 and git.repo.diff.v1 from the empty tree (what the orchestrator asked
    // before), against `git ls-files` of the same set run directly.
    const treeApp = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId: treeApp, template: 'vite-react' });
    const treeRepo = join(workspaces, treeApp);
    for (let i = 0; i < TREE_FILES; i++) {
      mkdirSync(join(treeRepo, 'src', `feature-${i % 20}`), { recursive: true });
      writeFileSync(join(treeRepo, 'src', `feature-${i % 20}`, `part-${i}.tsx`), `export const Part${i} = () => <p>${'part '.repeat(300)}${i}</p>;\n`);
    }
    await rpc.send(Rpc.gitRepoCommit, { appId: treeApp, message: 'Many files' });
    for (let i = 0; i < 10; i++) writeFileSync(join(treeRepo, 'src', `draft-${i}.tsx`), `export const Draft${i} = 1;\n`);
    const plainFiles = async () =>
      (await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: treeRepo, env, maxBuffer: 64 * 1024 * 1024 })).stdout
        .split('\0')
        .filter(Boolean)
        .sort()
        .join('\n');
    const trees = await interleaved(
      {
        worktree: async () => (await rpc.send(Rpc.gitWorktreeList, { appId: treeApp })).paths.join('\n'),
        diff: async () =>
          (await rpc.send(Rpc.gitRepoDiff, { appId: treeApp, fromEmptyTree: true })).files
            .map((f) => f.path)
            .sort()
            .join('\n'),
        baseline: plainFiles,
      },
      await plainFiles(),
    );

    const summaries: Record<string, { ours: LatencySummary; baseline: LatencySummary; ratioOfMedians: number }> = {};
    for (const [name, series] of Object.entries({
      commit,
      log,
      head: { ours: heads.samples.head, baseline: heads.samples.baseline },
      headByStatus: { ours: heads.samples.status, baseline: heads.samples.baseline },
      fileTree: { ours: trees.samples.worktree, baseline: trees.samples.baseline },
      fileTreeByDiff: { ours: trees.samples.diff, baseline: trees.samples.baseline },
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
        commit: `${COMMITS} samples each after ${WARMUP} warm-up: write one file, then git.repo.commit.v1 through NATS vs \`git add -A && git commit -q -m\` run directly; alternating on the same repository; CPU per commit: git-service's process tree around each of its commits, this process's reaped git processes around each plain one`,
        log: `${LOGS} samples each after ${WARMUP} warm-up: git.repo.log.v1 with limit ${LOG_COMMITS} vs \`git log -z --format=<same fields> -n ${LOG_COMMITS}\` run directly, on the same repository (${LOG_COMMITS}+ commits)`,
        head: `${BLOCKS} blocks of ${BLOCK_CALLS} calls per series after one warm-up block, the order rotating: git.repo.head.v1 and git.repo.status.v1 through NATS vs \`git rev-parse HEAD\` run directly; git-service's CPU (utime + stime of it and its git processes, /proc) around each block`,
        fileTree: `the same blocks on a vite-react workspace with ${TREE_FILES} committed files of ~1.6 KB and 10 uncommitted: git.worktree.list.v1 and git.repo.diff.v1 from the empty tree (paths sorted) vs \`git ls-files -z --cached --others --exclude-standard\` run directly`,
        timer: 'performance.now() around each awaited call in the calling process; plain git through child_process.execFile',
      },
      results: { ...summaries, gitServiceCpuPerCallMs: { ...heads.cpuPerCallMs, ...trees.cpuPerCallMs }, commitCpuPerCallMs },
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
    const cpu = { ...heads.cpuPerCallMs, ...trees.cpuPerCallMs };
    print(
      `  CPU per commit, git processes included (ms): git-service ${commitCpuPerCallMs.ours.toFixed(3)}, plain git ${commitCpuPerCallMs.baseline.toFixed(3)} (${ratio(commitCpuPerCallMs.ours, commitCpuPerCallMs.baseline)}×)`,
    );
    print(
      `  git-service CPU per call, its git processes included (ms): head ${cpu.head.toFixed(3)}, status ${cpu.status.toFixed(3)} (${ratio(cpu.head, cpu.status)}×); ` +
        `file tree ${cpu.worktree.toFixed(3)}, by diff ${cpu.diff.toFixed(3)} (${ratio(cpu.worktree, cpu.diff)}×)`,
    );
    expect(summaries.commit!.ours.count).toBe(COMMITS);
  });
});

// @fastify/static 8 (aliased): the 10.x that swagger-ui brings needs Node 22 for its ESM dependency.
import fastifyStatic from 'fastify-static-v8';
import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult } from './support/results';
import { median, percentile, ratio, round, summarizeLatencyMs } from './support/stats';

// 1. A run's commit → the first 200 of its static preview (new app, first ask makes the id): p95.
// 2. A 10 KB HTML page through the preview (Host routing, Redis lookup, checked read, capture
//    injection) vs the same file from disk by a bare Fastify + @fastify/static server, keep-alive
//    connections, interleaved: ratio of medians (goal ≤ 1.5).
// 3. The headless check of a static app through NATS, against a bare Playwright load of the same
//    page in a fresh context (no listeners, no screenshot): medians and their ratio.
// Benchmarks report; they fail only on a functional error.

const COMMIT_ROUNDS = Number(process.env.BENCH_PREVIEW_COMMITS ?? 40);
const FILE_REQUESTS = Number(process.env.BENCH_PREVIEW_REQUESTS ?? 2000);
const CHECKS = Number(process.env.BENCH_PREVIEW_CHECKS ?? 12);

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, host: string, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

function page(kb: number): string {
  const items = Array.from({ length: Math.ceil((kb * 1024) / 60) }, (_, i) => `<li class="task">Task number ${i} to do today</li>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Bench</title><link rel="stylesheet" href="styles.css"></head><body><h1>Tasks</h1><ul>\n${items}\n</ul></body></html>\n`;
}

describe('benchmark: app preview', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let nc: NatsConnection | undefined;
  let bare: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let dir = '';

  afterAll(async () => {
    await browser?.close();
    await bare?.close();
    await nc?.close();
    await platform?.stop();
    agent.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('commit to first 200, a file through the preview vs bare Fastify static, and the headless check', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    dir = scratchDir(stack.dataDir, 'bench-preview');
    const ws = join(dir, 'workspaces');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({ root: REPO_ROOT, ...stack, services: ['tool-runner', 'git-service'], workspacesDir: ws, backupDir: join(dir, 'b'), logDir: join(dir, 'logs'), env: { LOG_LEVEL: 'warn' } });
    const previewPort = platform.previewPort;
    nc = await connectNats(stack.natsUrl, 'bench-preview', stackNatsCredentials(stack));
    const client = new NatsRpcClient(nc, createServiceMetrics('bench-preview'), 60_000);
    const teamId = randomUUID();

    // 1. commit → first 200
    const toFirst200: number[] = [];
    const commitMs: number[] = [];
    for (let i = 0; i < COMMIT_ROUNDS + 3; i++) {
      const appId = randomUUID();
      await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
      const marker = `version-${i}-${randomUUID()}`;
      writeFileSync(join(ws, appId, 'index.html'), `<html><head></head><body><h1>${marker}</h1></body></html>`);
      const c0 = performance.now();
      await client.send(Rpc.gitRepoCommit, { appId, message: 'turn' });
      const t0 = performance.now();
      const { previewId } = await client.send(Rpc.previewGet, { teamId, appId });
      let res = await get(previewPort, `${previewId}.preview.localhost`, '/');
      while (res.status !== 200) res = await get(previewPort, `${previewId}.preview.localhost`, '/');
      if (i >= 3) {
        toFirst200.push(performance.now() - t0);
        commitMs.push(t0 - c0);
      }
    }

    // 2. a 10 KB page through the preview vs bare Fastify static
    const appId = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    const html = page(10);
    writeFileSync(join(ws, appId, 'index.html'), html);
    await client.send(Rpc.gitRepoCommit, { appId, message: 'page' });
    const { previewId } = await client.send(Rpc.previewGet, { teamId, appId });
    const host = `${previewId}.preview.localhost`;
    bare = Fastify({ logger: false });
    await bare.register(fastifyStatic, { root: join(ws, appId) });
    await bare.listen({ port: 0, host: '127.0.0.1' });
    const barePort = (bare.server.address() as { port: number }).port;
    const ours: number[] = [];
    const baseline: number[] = [];
    const oursBytes = (await get(previewPort, host, '/index.html')).bytes;
    const bareBytes = (await get(barePort, 'localhost', '/index.html')).bytes;
    if (bareBytes !== Buffer.byteLength(html) || oursBytes <= bareBytes) throw new Error(`unexpected sizes: preview ${oursBytes}, bare ${bareBytes}`);
    for (let i = 0; i < 200; i++) {
      await get(previewPort, host, '/index.html');
      await get(barePort, 'localhost', '/index.html');
    }
    for (let i = 0; i < FILE_REQUESTS; i++) {
      const pair = [
        async () => {
          const t = performance.now();
          if ((await get(previewPort, host, '/index.html')).status !== 200) throw new Error('preview did not answer 200');
          ours.push(performance.now() - t);
        },
        async () => {
          const t = performance.now();
          if ((await get(barePort, 'localhost', '/index.html')).status !== 200) throw new Error('bare static did not answer 200');
          baseline.push(performance.now() - t);
        },
      ];
      if (i % 2) pair.reverse();
      for (const step of pair) await step();
    }

    // 3. the headless check vs a bare page load
    const check = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId: check, template: 'static-web' });
    const head = (await client.send(Rpc.gitRepoStatus, { appId: check })).headSha;
    const checkUrl = (await client.send(Rpc.previewGet, { teamId, appId: check })).url.replace(/:\d+\/$/, `:${previewPort}/`);
    browser = await launchChromium();
    const checkMs: number[] = [];
    const loadMs: number[] = [];
    for (let i = 0; i < CHECKS + 1; i++) {
      const t = performance.now();
      const result = await client.send(Rpc.previewCheck, { teamId, appId: check, sha: head }, { timeoutMs: 60_000 });
      const took = performance.now() - t;
      if (result.outcome !== 'passed') throw new Error(`the check did not pass: ${JSON.stringify(result)}`);
      const context = await browser.newContext();
      const p = await context.newPage();
      const l = performance.now();
      await p.goto(checkUrl, { waitUntil: 'load' });
      const loaded = performance.now() - l;
      await context.close();
      // The first check launches the replica's browser: reported apart.
      if (i > 0) {
        checkMs.push(took);
        loadMs.push(loaded);
      }
    }
    const firstCheckNote = 'the first check of a replica also launches its Chromium (~0.7 s here) and is left out';

    const results = {
      commitToFirst200: { ...summarizeLatencyMs(toFirst200), p95Ms: round(percentile(toFirst200, 95), 1), commitMedianMs: round(median(commitMs), 1), ratioToCommitMedian: ratio(percentile(toFirst200, 95), median(commitMs)) },
      staticFile: { bytesOurs: oursBytes, bytesBare: bareBytes, ours: summarizeLatencyMs(ours), bare: summarizeLatencyMs(baseline), ratio: ratio(median(ours), median(baseline)) },
      headlessCheck: { medianMs: round(median(checkMs), 0), p90Ms: round(percentile(checkMs, 90), 0), bareLoadMedianMs: round(median(loadMs), 0), ratio: ratio(median(checkMs), median(loadMs)), note: firstCheckNote },
    };
    const goals = [
      goal('commit → first 200 of the static preview, p95 (ms)', results.commitToFirst200.p95Ms, 1000, 'ms'),
      goal('10 KB page through the preview vs bare Fastify static, ratio of medians', results.staticFile.ratio, 1.5, '×'),
      goal('headless check of a static app, median (ms)', results.headlessCheck.medianMs, 3000, 'ms'),
    ];
    print('\napp preview');
    print(formatTable(['measure', 'median', 'p95 / p90', 'baseline median', 'ratio'], [
      ['commit → first 200 (ms)', round(median(toFirst200), 1), results.commitToFirst200.p95Ms, `${results.commitToFirst200.commitMedianMs} (the commit)`, `${results.commitToFirst200.ratioToCommitMedian}×`],
      ['10 KB page (µs)', results.staticFile.ours.medianUs, results.staticFile.ours.p90Us, `${results.staticFile.bare.medianUs} (bare static)`, `${results.staticFile.ratio}×`],
      ['headless check (ms)', results.headlessCheck.medianMs, results.headlessCheck.p90Ms, `${results.headlessCheck.bareLoadMedianMs} (bare load)`, `${results.headlessCheck.ratio}×`],
    ]));
    print(formatGoals(goals));
    recordResult({
      benchmark: 'preview',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        commitToFirst200: `${COMMIT_ROUNDS} new apps (3 warm-up): write index.html, git.repo.commit.v1, then tool.preview.get.v1 (makes the id) and GET / until 200; timed from the commit reply`,
        staticFile: `${FILE_REQUESTS} GETs each of a ${Buffer.byteLength(html)}-byte index.html, one keep-alive connection per server, interleaved with alternating order after 200 warm-ups; baseline Fastify ${'5'} + @fastify/static from the same workspace folder`,
        headlessCheck: `${CHECKS} checks (tool.preview.check.v1: load, bounded network idle, blank probe, PNG screenshot, Redis write) of the static-web template; baseline: Playwright goto(load) of the same URL in a fresh context of a browser in the bench process`,
      },
      results,
      goals,
    });
    expect(goals).toHaveLength(3);
  });
});

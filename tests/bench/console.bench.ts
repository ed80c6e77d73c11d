import { demoResponder } from '@overskill/testing';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';
import { REPO_ROOT } from '../support/integration-env';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult } from './support/results';
import { median, ratio, round } from './support/stats';

// The web console in headless Chromium against the real platform: navigation to an interactive
// app workspace, and a 400-file diff's first file on screen, each against a baseline page served
// by the same gateway in the same run; plus the build's initial JavaScript size.
const SAMPLES = Number(process.env.BENCH_CONSOLE_SAMPLES ?? 9);
const DIFF_FILES = 400;

describe('benchmark: web console', () => {
  let h: GatewayHarness;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await h?.stop();
  });

  it('measures workspace navigation, a 400-file diff and the initial JavaScript', async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    const size = JSON.parse(readFileSync(join(REPO_ROOT, 'dist', 'services', 'console-size.json'), 'utf8')) as {
      initialGzipBytes: number;
      totalGzipBytes: number;
      initialFiles: string[];
    };
    h = await startGatewayHarness({
      name: 'bench-console',
      redisDb: 11,
      env: { GATEWAY_RATE_LIMIT_IP_MAX: '1000000', GATEWAY_RATE_LIMIT_KEY_MAX: '1000000', LOG_LEVEL: 'warn' },
    });
    h.anthropic.respondWith(demoResponder);
    const owner = h.key('bench-console', 'owner');

    // Two apps built by the demo agent; then one gets a 400-file commit, the other a 1-file one.
    const appIds: string[] = [];
    for (const name of ['Big diff', 'Small diff']) {
      const app = (await h.api('/api/apps', { method: 'POST', key: owner.key, body: { name } })).body;
      const { runId } = (await h.api(`/api/apps/${app.id}/messages`, { method: 'POST', key: owner.key, body: { content: `Build ${name}` } })).body;
      for (let i = 0; i < 600; i++) {
        const run = (await h.api(`/api/runs/${runId}`, { key: owner.key })).body;
        if (['completed', 'failed', 'cancelled'].includes(run.status)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      appIds.push(app.id);
    }
    const [bigApp, smallApp] = appIds as [string, string];
    commitFiles(join(h.dir, 'workspaces', bigApp), DIFF_FILES);
    commitFiles(join(h.dir, 'workspaces', smallApp), 1);

    browser = await launchChromium();
    const signIn = await h.api('/api/session', { method: 'POST', key: null, body: { key: owner.key } });
    const sessionId = /osk_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')![1]!;
    const base = new URL(h.gateway);
    const newContext = async () => {
      const context = await browser.newContext({ baseURL: h.gateway, viewport: { width: 1280, height: 800 } });
      await context.addCookies([{ name: 'osk_session', value: sessionId, domain: base.hostname, path: '/api', httpOnly: true, sameSite: 'Strict' }]);
      contexts.push(context);
      return context;
    };
    const timed = async (page: Page, url: string, ready: (p: Page) => Promise<unknown>) => {
      const started = performance.now();
      await page.goto(url);
      await ready(page);
      return performance.now() - started;
    };
    const workspaceReady = (p: Page) => Promise.all([p.getByLabel('Message to the agent').waitFor(), p.getByTestId('run-steps').waitFor()]);
    const baselineReady = (p: Page) => p.waitForLoadState('load');
    const firstDiffFile = (p: Page) => p.locator('.diff-file table').first().waitFor();

    const samples = {
      workspaceCold: [] as number[],
      workspaceWarm: [] as number[],
      baselineCold: [] as number[],
      baselineWarm: [] as number[],
      diff400: [] as number[],
      diff1: [] as number[],
    };
    const warm = await (await newContext()).newPage();
    // Warm-up: assets in the warm context's cache, every service path exercised once.
    await timed(warm, `/apps/${bigApp}/versions`, firstDiffFile);
    await timed(warm, `/apps/${smallApp}`, workspaceReady);
    for (let i = 0; i < SAMPLES; i++) {
      // Cold: a new browser context (empty cache) for each navigation; warm: the same context.
      const cold = await (await newContext()).newPage();
      samples.baselineCold.push(await timed(cold, '/health/live', baselineReady));
      const cold2 = await (await newContext()).newPage();
      samples.workspaceCold.push(await timed(cold2, `/apps/${smallApp}`, workspaceReady));
      samples.baselineWarm.push(await timed(warm, '/health/live', baselineReady));
      samples.workspaceWarm.push(await timed(warm, `/apps/${smallApp}`, workspaceReady));
      samples.diff1.push(await timed(warm, `/apps/${smallApp}/versions`, firstDiffFile));
      samples.diff400.push(await timed(warm, `/apps/${bigApp}/versions`, firstDiffFile));
      await Promise.all([cold.context().close(), cold2.context().close()]);
    }
    const shown = await warm.locator('.diff-file').count();
    expect(shown).toBeGreaterThan(0);
    expect(await warm.getByTestId('diff-summary').innerText()).toContain(`${DIFF_FILES} file(s) changed`);
    // Where one warm workspace navigation spends its time: every request, from navigation start.
    await timed(warm, `/apps/${smallApp}`, workspaceReady);
    const breakdown = (await warm.evaluate(
      `performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation')).map((e) => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseEnd)])`,
    )) as Array<[string, number, number]>;
    print(
      formatTable(
        ['request (warm workspace navigation)', 'start ms', 'end ms'],
        breakdown.sort((a, b) => a[1] - b[1]),
      ),
    );

    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v), 1)])) as Record<keyof typeof samples, number>;
    const rows = [
      [
        'navigation → interactive workspace (cold cache)',
        m.workspaceCold,
        'navigation → /health/live loaded (cold)',
        m.baselineCold,
        ratio(m.workspaceCold, m.baselineCold),
      ],
      [
        'navigation → interactive workspace (warm cache)',
        m.workspaceWarm,
        'navigation → /health/live loaded (warm)',
        m.baselineWarm,
        ratio(m.workspaceWarm, m.baselineWarm),
      ],
      [`versions → first file of a ${DIFF_FILES}-file diff`, m.diff400, 'versions → first file of a 1-file diff', m.diff1, ratio(m.diff400, m.diff1)],
    ];
    print(
      `\nweb console, ${SAMPLES} samples each (medians, ms); initial JS ${(size.initialGzipBytes / 1024).toFixed(1)} KB gzipped, all JS ${(size.totalGzipBytes / 1024).toFixed(1)} KB`,
    );
    print(formatTable(['subject', 'ms', 'baseline', 'ms', 'ratio'], rows));
    const goals = [
      goal('initial JavaScript gzipped', round(size.initialGzipBytes / 1024, 1), 250, ' KB'),
      goal('navigation → interactive workspace, median (cold cache)', m.workspaceCold, 1000, ' ms'),
      goal(`${DIFF_FILES}-file diff shows its first file, median`, m.diff400, 1000, ' ms'),
    ];
    print(formatGoals(goals));
    recordResult({
      benchmark: 'console',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        browser: 'Debian chromium through playwright-core, headless, 1280×800, one browser for the run',
        platform: 'gateway, orchestrator, ai-router, tool-runner, git-service, analytics from dist/ (startGatewayHarness), demo responder',
        workspace: 'page.goto(/apps/:id) until the message box and the run timeline are on screen; signed in by the session cookie',
        baseline: 'page.goto(/health/live) until load, same gateway, same context kind (cold = new context per sample)',
        diff: `page.goto(/apps/:id/versions) until the first file's diff table is on screen; latest version changes ${DIFF_FILES} files (20 lines each) vs 1 file`,
        samples: SAMPLES,
      },
      results: { medianMs: m, samplesMs: samples, initialJs: size, warmWorkspaceRequests: breakdown },
      goals,
    });
  });
});

// A commit straight into the app's repository (as a push would land), touching n files.
function commitFiles(repo: string, n: number): void {
  mkdirSync(join(repo, 'bulk'), { recursive: true });
  for (let i = 0; i < n; i++) {
    const lines = Array.from({ length: 20 }, (_, l) => `export const value${l} = ${i * 100 + l}; // file ${i}`);
    writeFileSync(join(repo, 'bulk', `file-${String(i).padStart(3, '0')}.js`), `${lines.join('\n')}\n`);
  }
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@x.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@x.test' };
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-q', '-m', `Add ${n} files`], { cwd: repo, env });
}

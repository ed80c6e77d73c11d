import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startGatewayHarness, type ApiInit, type GatewayHarness } from '../support/gateway-harness';
import { stackNatsCredentials } from '@overskill/testing';

// The preview in real Chromium: isolated from the API's origin, and what its page does comes
// back to the agent through the read tools.
describe('app preview in Chromium', () => {
  let h: GatewayHarness;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let browser: Browser;
  let teamId: string;

  const api = async (path: string, init: ApiInit = {}) => {
    const res = await h.api(path, init);
    expect(h.contract.check(init.method ?? 'GET', path, res)).toEqual([]);
    return res;
  };

  // An app with these files, committed as its first version.
  async function appWith(files: Record<string, string>): Promise<{ appId: string; sha: string; url: string }> {
    const created = await api('/api/apps', { method: 'POST', body: { name: `preview ${randomUUID().slice(0, 6)}`, template: 'empty' } });
    const appId = created.body.id as string;
    const ws = join(h.dir, 'workspaces', appId);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(ws, path, '..'), { recursive: true });
      writeFileSync(join(ws, path), content);
    }
    const { sha } = await client.send(Rpc.gitRepoCommit, { appId, message: 'fixture' });
    const preview = await api(`/api/apps/${appId}/preview`);
    return { appId, sha, url: preview.body.url as string };
  }

  const tool = async (appId: string, name: string, input: unknown) =>
    (
      await client.send(
        Rpc.toolCallExecute,
        { teamId, appId, runId: randomUUID(), toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) },
        { timeoutMs: 30_000 },
      )
    ).output;

  async function eventually(read: () => Promise<string>, expected: string[]): Promise<string> {
    let last = '';
    for (let i = 0; i < 100; i++) {
      last = await read();
      if (expected.every((e) => last.includes(e))) return last;
      await new Promise((r) => setTimeout(r, 150));
    }
    return last;
  }

  beforeAll(async () => {
    h = await startGatewayHarness({ name: 'preview-browser', redisDb: 7, services: ['gateway', 'orchestrator', 'tool-runner', 'git-service', 'analytics'] });
    teamId = h.key('preview-team').teamId;
    nc = await connectNats(h.natsUrl, 'preview-browser-e2e', stackNatsCredentials(h));
    client = new NatsRpcClient(nc, createServiceMetrics('preview-browser-e2e'), 30_000);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await h?.stop();
  });

  it("cannot read the API origin's cookies or storage, and its requests to /api are refused", async () => {
    const { url } = await appWith({ 'index.html': '<!doctype html><html><head></head><body><h1>Isolated</h1></body></html>' });
    const apiOrigin = h.gateway.replace('127.0.0.1', 'localhost');
    const context = await browser.newContext();
    try {
      const console = await context.newPage();
      await console.goto(`${apiOrigin}/api/documentation/json`);
      // Page code as strings: the test's own TypeScript has no DOM types.
      await console.evaluate(
        "document.cookie = 'session=api-origin-secret; path=/'; localStorage.setItem('apiKey', 'osk_console_secret'); sessionStorage.setItem('apiKey', 'osk_console_secret')",
      );
      expect(await console.evaluate('document.cookie')).toContain('api-origin-secret');

      const page = await context.newPage();
      await page.goto(url);
      expect(await page.textContent('h1')).toBe('Isolated');
      const seen = await page.evaluate(`(async () => {
        const attempt = async (init) => {
          try {
            const res = await fetch(${JSON.stringify(`${apiOrigin}/api/apps`)}, init);
            return 'status ' + res.status + ': ' + (await res.text());
          } catch (err) {
            return 'blocked: ' + String(err);
          }
        };
        return {
          cookie: document.cookie,
          local: localStorage.getItem('apiKey'),
          session: sessionStorage.getItem('apiKey'),
          withCookies: await attempt({ credentials: 'include' }),
          withKey: await attempt({ headers: { 'x-api-key': ${JSON.stringify(h.key('preview-team').key)} } }),
        };
      })()`);
      expect(seen).toEqual({
        cookie: '',
        local: null,
        session: null,
        withCookies: expect.stringMatching(/^blocked: TypeError/),
        withKey: expect.stringMatching(/^blocked: TypeError/),
      });
    } finally {
      await context.close();
    }
    // What the browser could not read, the gateway refused anyway.
    const refused = await h.api('/api/apps', { headers: { origin: new URL(url).origin } });
    expect([refused.status, refused.body.code]).toEqual([403, ErrorCode.PREVIEW_ORIGIN_REFUSED]);
    expect((await h.api('/api/apps', { headers: { origin: 'https://app.example.com' } })).status).toBe(200);
  });

  it('brings console errors, failed requests and page views back through the read tools and the logs route', async () => {
    const { appId, url } = await appWith({
      'index.html':
        '<!doctype html><html><head><title>Capture</title></head><body><a id="next" href="/about/">About</a>' +
        '<script>console.error("todo list failed to render", { id: 7 }); fetch("/data/missing.json?token=s3cr3t-value"); console.log("booted");</script></body></html>',
      'about/index.html': '<!doctype html><html><head></head><body><h1>About</h1><script>console.warn("about page");</script></body></html>',
    });
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.waitForLoadState('networkidle');
      await page.click('#next');
      await page.waitForSelector('h1');
      await page.waitForTimeout(300);
    } finally {
      // pagehide flushes what is left with sendBeacon.
      await page.close({ runBeforeUnload: true });
    }

    const logs = await eventually(() => tool(appId, 'read_console_logs', {}), ['todo list failed to render', 'about page', 'booted']);
    expect(logs).toMatch(/\[error\] todo list failed to render \{id: 7\}/);
    expect(logs).toContain('[warn] about page');
    const requests = await eventually(() => tool(appId, 'read_network_requests', { failed_only: true }), ['/data/missing.json']);
    expect(requests).toContain('GET /data/missing.json?token=[redacted] → 404');
    expect(requests).not.toContain('s3cr3t-value');
    const report = await eventually(() => tool(appId, 'read_analytics', {}), ['2 page views']);
    expect(report).toContain('2 page views, 1 unique visitors');
    expect(report).toMatch(/\/about\/: 1 views/);

    const errorsOnly = await api(`/api/apps/${appId}/preview/logs?level=error`);
    expect(errorsOnly.status).toBe(200);
    expect(errorsOnly.body.entries.map((e: { message: string }) => e.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('todo list failed to render'), expect.stringContaining('GET /data/missing.json?token=[redacted] → 404')]),
    );
    expect(errorsOnly.body.entries.every((e: { level: string }) => e.level === 'error')).toBe(true);
    const consoleOnly = await api(`/api/apps/${appId}/preview/logs?source=console`);
    expect(consoleOnly.body.entries.every((e: { source: string }) => e.source === 'console')).toBe(true);
    expect((await api(`/api/apps/${appId}/preview/logs?level=fatal`)).status).toBe(400);
  });

  it('runs the headless check: a render-time exception, a blank page and a clean page, with a screenshot served by the API', async () => {
    const throwing = await appWith({
      'index.html': '<html><head></head><body><div id="app"></div><script>document.getElementById("missing").textContent = "x";</script></body></html>',
    });
    const failed = await client.send(Rpc.previewCheck, { teamId, appId: throwing.appId, sha: throwing.sha }, { timeoutMs: 30_000 });
    expect(failed).toMatchObject({ sha: throwing.sha, outcome: 'failed', screenshot: true });
    expect(failed.pageErrors.join('\n')).toMatch(/TypeError: Cannot set properties of null/);

    const blank = await appWith({ 'index.html': '<html><head></head><body><div id="root"></div></body></html>' });
    expect(await client.send(Rpc.previewCheck, { teamId, appId: blank.appId, sha: blank.sha }, { timeoutMs: 30_000 })).toMatchObject({
      outcome: 'failed',
      blank: true,
      pageErrors: [],
    });

    const clean = await appWith({ 'index.html': '<html><head></head><body><h1>All good</h1></body></html>', 'styles.css': 'h1{}' });
    const passed = await client.send(Rpc.previewCheck, { teamId, appId: clean.appId, sha: clean.sha }, { timeoutMs: 30_000 });
    expect(passed).toMatchObject({ outcome: 'passed', blank: false, consoleErrors: [], pageErrors: [], failedRequests: [] });
    expect(passed.loadMs).toBeGreaterThan(0);

    const preview = await api(`/api/apps/${clean.appId}/preview`);
    expect(preview.body.lastCheck).toMatchObject({
      sha: clean.sha,
      outcome: 'passed',
      screenshotUrl: `/api/apps/${clean.appId}/versions/${clean.sha}/screenshot`,
    });
    const shot = await h.api(preview.body.lastCheck.screenshotUrl);
    expect([shot.status, shot.headers.get('content-type')]).toEqual([200, 'image/png']);
    const bytes = Buffer.from(
      await (await fetch(`${h.gateway}${preview.body.lastCheck.screenshotUrl}`, { headers: { 'x-api-key': h.key('preview-team').key } })).arrayBuffer(),
    );
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const none = await api(`/api/apps/${clean.appId}/versions/${'a'.repeat(40)}/screenshot`);
    expect([none.status, none.body.code]).toEqual([404, ErrorCode.PREVIEW_SCREENSHOT_NOT_FOUND]);
  });

  it('answers the preview routes with roles and team scoping like the other app routes', async () => {
    const { appId, url } = await appWith({ 'index.html': '<h1>x</h1>' });
    const viewer = h.key('preview-team', 'viewer').key;
    expect((await api(`/api/apps/${appId}/preview`, { key: viewer })).body.url).toBe(url);
    expect((await api(`/api/apps/${appId}/preview/rotate`, { method: 'POST', key: viewer })).status).toBe(403);
    const other = h.key('another-team').key;
    expect((await api(`/api/apps/${appId}/preview`, { key: other })).body.code).toBe(ErrorCode.APP_NOT_FOUND);
    expect((await api(`/api/apps/${appId}/preview/rotate`, { method: 'POST', key: other })).status).toBe(404);
    const rotated = await api(`/api/apps/${appId}/preview/rotate`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.url).not.toBe(url);
    const restarted = await api(`/api/apps/${appId}/preview/restart`, { method: 'POST' });
    expect(restarted.body).toMatchObject({ url: rotated.body.url, mode: 'static', state: 'running' });
  });
});

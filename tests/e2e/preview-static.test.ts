import { ErrorCode, Events, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { hostOf, previewRequest } from '../support/preview-http';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4c40000000049454e44ae426082',
  'hex',
);

// tool-runner's preview listener: an app's versions at its own origin, chosen by Host header.
describe('static app preview', () => {
  const stack = integrationStack();
  const teamId = randomUUID();
  const appId = randomUUID();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let ws: string;
  let outside: string;
  let firstSha: string;
  let url: string;

  const get = (path: string, init: Parameters<typeof previewRequest>[3] = {}, host = hostOf(url)) => previewRequest(platform.previewPort, host, path, init);
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(join(ws, path, '..'), { recursive: true });
    writeFileSync(join(ws, path), content);
  };

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'preview-static');
    outside = join(dir, 'secret.txt');
    writeFileSync(outside, 'TOP SECRET OUTSIDE THE WORKSPACE');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'ws'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['tool-runner', 'git-service', 'analytics'],
      env: { LOG_LEVEL: 'warn', PREVIEW_INGEST_RATE_PER_MINUTE: '50' },
    });
    nc = await connectNats(stack.natsUrl, 'preview-static-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('preview-static-e2e'), 30_000);
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    ws = join(dir, 'ws', appId);
    write(
      'index.html',
      '<!doctype html><html><head><title>Todo</title><link rel="stylesheet" href="/styles.css"></head><body><h1>Todo v1</h1><script src="app.js"></script></body></html>',
    );
    write('styles.css', 'h1 { color: red; }');
    write('app.js', 'console.log("hello");');
    write('img/logo.png', PNG);
    write('icon.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>');
    write('about/index.html', '<html><body>About</body></html>');
    write('.env', 'API_KEY=sk-live-should-never-be-served');
    firstSha = (await client.send(Rpc.gitRepoCommit, { appId, message: 'v1' })).sha;
    url = (await client.send(Rpc.previewGet, { teamId, appId })).url;
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('gives the app an unguessable preview URL at its own origin, the same on every ask', async () => {
    expect(url).toMatch(new RegExp(`^http://[a-z2-7]{20}\\.preview\\.localhost:${platform.previewPort}/$`));
    const again = await client.send(Rpc.previewGet, { teamId, appId });
    expect(again).toMatchObject({ url, mode: 'static', state: 'running', appId });
    const other = await client.send(Rpc.previewGet, { teamId, appId: randomUUID() });
    expect(other.previewId).not.toBe(again.previewId);
  });

  it('serves the latest files with their content types and the capture script in HTML only', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    // Injected right after <head>, before any app script.
    expect(page.text).toMatch(/^<!doctype html><html><head><script data-overskill-capture>\(function \(\) \{/);
    expect(page.text.indexOf('data-overskill-capture')).toBeLessThan(page.text.indexOf('app.js'));
    expect(page.text).toContain('<h1>Todo v1</h1>');

    const css = await get('/styles.css');
    expect([css.status, css.headers['content-type'], css.text]).toEqual([200, 'text/css; charset=utf-8', 'h1 { color: red; }']);
    const js = await get('/app.js?v=1');
    expect([js.status, js.headers['content-type'], js.text]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log("hello");']);
    const png = await get('/img/logo.png');
    expect([png.status, png.headers['content-type']]).toEqual([200, 'image/png']);
    expect(png.body.equals(PNG)).toBe(true);
    expect((await get('/icon.svg')).headers['content-type']).toBe('image/svg+xml');
    expect((await get('/about/')).text).toContain('About');
    expect((await get('/about')).text).toContain('About');
    const head = await get('/styles.css', { method: 'HEAD' });
    expect([head.status, head.text]).toEqual([200, '']);
  });

  it('falls back to index.html for page routes, never for a missing asset', async () => {
    const route = await get('/todos/42');
    expect(route.status).toBe(200);
    expect(route.text).toContain('<h1>Todo v1</h1>');
    const deep = await get('/data/missing.json?token=abc', { headers: { accept: '*/*', 'sec-fetch-mode': 'cors' } });
    expect(deep.status).toBe(404);
    const missing = await get('/missing.js');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ code: ErrorCode.PREVIEW_FILE_NOT_FOUND, message: 'missing.js is not in this version' });
  });

  it('serves any version by sha at its own origin, from git, while the latest moves on', async () => {
    write('index.html', '<html><head></head><body><h1>Todo v2</h1></body></html>');
    const second = (await client.send(Rpc.gitRepoCommit, { appId, message: 'v2' })).sha;
    expect((await get('/')).text).toContain('Todo v2');
    const previewId = hostOf(url).split('.')[0];
    const v1 = await get('/', {}, `${previewId}-${firstSha}.preview.localhost:${platform.previewPort}`);
    expect(v1.status).toBe(200);
    expect(v1.text).toContain('Todo v1');
    expect(v1.headers['cache-control']).toContain('immutable');
    expect((await get('/styles.css', {}, `${previewId}-${second}.preview.localhost`)).text).toBe('h1 { color: red; }');
    const unknown = await get('/', {}, `${previewId}-${'0'.repeat(40)}.preview.localhost`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text).code).toBe(ErrorCode.PREVIEW_NOT_FOUND);
  });

  it('refuses path traversal, hidden files and links out of the workspace', async () => {
    symlinkSync(outside, join(ws, 'leak.txt'));
    symlinkSync(join(outside, '..'), join(ws, 'leakdir'));
    const attempts = [
      '/../secret.txt',
      '/%2e%2e/%2e%2e/secret.txt',
      '/a/..%2f..%2fsecret.txt',
      '/..%5c..%5csecret.txt',
      '/.git/config',
      '/%2egit/HEAD',
      '/.env',
      '/leak.txt',
      '/leakdir/secret.txt',
      '/%00index.html',
      '/%E0%A4%A',
    ];
    for (const path of attempts) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: expect.any(Number) });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain('TOP SECRET');
      expect(res.text).not.toContain('sk-live');
      expect(res.text).not.toContain('[core]');
      expect([ErrorCode.PREVIEW_PATH_INVALID, ErrorCode.PREVIEW_FILE_NOT_FOUND]).toContain(JSON.parse(res.text).code);
    }
    expect(JSON.parse((await get('/%2e%2e/%2e%2e/secret.txt')).text)).toEqual({
      code: ErrorCode.PREVIEW_PATH_INVALID,
      message: 'Paths with . or .. segments are not served',
    });
    expect((await get('/.env')).status).toBe(404);
  });

  it('answers an unknown, malformed or foreign host with a clear 404', async () => {
    for (const host of ['aaaaaaaaaaaaaaaaaaaa.preview.localhost', 'not-a-preview.preview.localhost', '127.0.0.1', 'evil.example.com', '']) {
      const res = await get('/', {}, host);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.text)).toEqual({ code: ErrorCode.PREVIEW_NOT_FOUND, message: expect.stringContaining('rotated') });
    }
    expect((await get('/', { method: 'DELETE' })).status).toBe(404);
  });

  it('rotates the preview id: the old URL is a 404 at once, the new one serves', async () => {
    const appB = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId: appB, template: 'static-web' });
    const before = await client.send(Rpc.previewGet, { teamId, appId: appB });
    expect((await get('/', {}, hostOf(before.url))).status).toBe(200);
    const after = await client.send(Rpc.previewRotate, { teamId, appId: appB });
    expect(after.previewId).not.toBe(before.previewId);
    expect((await get('/', {}, hostOf(before.url))).status).toBe(404);
    expect((await get('/', {}, hostOf(after.url))).status).toBe(200);
    expect((await client.send(Rpc.previewGet, { teamId, appId: appB })).url).toBe(after.url);
    const restarted = await client.send(Rpc.previewRestart, { teamId, appId: appB });
    expect(restarted).toMatchObject({ url: after.url, state: 'running', reason: expect.stringContaining('nothing to restart') });
    expect((await client.send(Rpc.previewGet, { teamId, appId: appB })).reason).toBe('');
  });

  it('answers 404 PREVIEW_NOT_FOUND once the app and its workspace are gone', async () => {
    const gone = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId: gone, template: 'static-web' });
    const { previewId } = await client.send(Rpc.previewGet, { teamId, appId: gone });
    const sha = (await client.send(Rpc.gitRepoStatus, { appId: gone })).headSha;
    expect((await get('/', {}, `${previewId}.preview.localhost`)).status).toBe(200);
    rmSync(join(ws, '..', gone), { recursive: true, force: true });
    for (const host of [`${previewId}.preview.localhost`, `${previewId}-${sha}.preview.localhost`]) {
      const res = await get('/', {}, host);
      expect([res.status, JSON.parse(res.text)]).toEqual([404, { code: ErrorCode.PREVIEW_NOT_FOUND, message: 'This app no longer exists' }]);
    }
  });

  it('reports an app with a dev script as a dev-server preview, stopped until its first view', async () => {
    const vite = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId: vite, template: 'vite-react' });
    expect(await client.send(Rpc.previewGet, { teamId, appId: vite })).toMatchObject({
      mode: 'dev-server',
      state: 'stopped',
      reason: expect.stringContaining('starts on the next view'),
    });
    // Its versions by sha are still served as files.
    const sha = (await client.send(Rpc.gitRepoStatus, { appId: vite })).headSha;
    const { previewId } = await client.send(Rpc.previewGet, { teamId, appId: vite });
    expect((await get('/index.html', {}, `${previewId}-${sha}.preview.localhost`)).status).toBe(200);
  });

  describe('capture ingest', () => {
    const origin = () => `http://${hostOf(url)}`;
    const post = (body: string, headers: Record<string, string> = { origin: origin() }) =>
      get('/__overskill/ingest', { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } });

    it('refuses batches from another origin, malformed or oversized ones, and floods', async () => {
      const good = JSON.stringify({ events: [{ kind: 'console', level: 'info', message: 'hi' }] });
      const noOrigin = await post(good, {});
      expect([noOrigin.status, JSON.parse(noOrigin.text).code]).toEqual([403, ErrorCode.PREVIEW_INGEST_REFUSED]);
      expect((await post(good, { origin: 'http://evil.example.com' })).status).toBe(403);
      expect((await post('{not json')).status).toBe(400);
      const wrongShape = await post(JSON.stringify({ events: [{ kind: 'console', level: 'fatal', message: 1 }] }));
      expect([wrongShape.status, JSON.parse(wrongShape.text).code]).toEqual([400, ErrorCode.VALIDATION_FAILED]);
      expect(JSON.parse(wrongShape.text).message).toContain('events.0.level');
      const huge = await post(JSON.stringify({ events: [{ kind: 'console', level: 'info', message: 'x'.repeat(70_000) }] }));
      expect([huge.status, JSON.parse(huge.text).code]).toEqual([413, ErrorCode.PAYLOAD_TOO_LARGE]);
      const tooMany = await post(JSON.stringify({ events: Array.from({ length: 101 }, () => ({ kind: 'console', level: 'info', message: 'x' })) }));
      expect([tooMany.status, JSON.parse(tooMany.text).code]).toEqual([413, ErrorCode.PAYLOAD_TOO_LARGE]);

      // 50 events a minute for this test (PREVIEW_INGEST_RATE_PER_MINUTE): the flood is refused,
      // and the preview itself keeps serving meanwhile.
      const batch = JSON.stringify({ events: Array.from({ length: 20 }, (_, i) => ({ kind: 'console', level: 'info', message: `flood ${i}` })) });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(batch)).status);
      expect(statuses.filter((s) => s === 202).length).toBeLessThanOrEqual(2);
      expect(statuses).toContain(429);
      expect((await get('/')).status).toBe(200);
      const before = Number((await client.send(Rpc.analyticsEventCount, { type: Events.previewConsoleLogged.subject, teamId })).count);
      expect(before).toBeLessThanOrEqual(50);
    });
  });
});

import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { portIsFree } from '@overskill/runtime/port-leases';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { hostOf, previewRequest } from '../support/preview-http';

// Below Linux's ephemeral range (32768-60999), where outgoing connections never take a port, and
// below the harness's own ports (30000 up).
const PORTS = { from: 27300, to: 27319 };
const MARKER = `devfixture${randomUUID().slice(0, 8)}`;

// A dev server with no dependencies: `node server.js`. It answers its environment, what it can
// read at a path, a websocket upgrade (echo), and memory growth on demand.
const SERVER = `
const http = require('http');
const fs = require('fs');
const tag = process.argv[2];
console.log('dev fixture listening, token sk-ant-api03-${'x'.repeat(40)}');
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/env') return res.end(JSON.stringify(process.env));
  if (url.pathname === '/probe') {
    let result;
    try { result = { ok: true, entries: fs.readdirSync(url.searchParams.get('path')).length }; } catch (e) { result = { ok: false, error: e.code }; }
    return res.end(JSON.stringify(result));
  }
  if (url.pathname === '/grow') {
    const keep = [];
    const grow = () => { keep.push(Buffer.alloc(32 * 1024 * 1024, 1)); setTimeout(grow, 20); };
    grow();
    return res.end('growing');
  }
  res.setHeader('content-type', 'text/html');
  res.end('<!doctype html><html><head><title>dev</title></head><body><h1>Dev fixture ' + tag + '</h1></body></html>');
});
server.on('upgrade', (req, socket, head) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nupgrade: websocket\\r\\nconnection: Upgrade\\r\\n\\r\\n');
  socket.write('host=' + req.headers.host + ';');
  if (head.length) socket.write(head);
  socket.on('data', (d) => socket.write(d));
});
server.listen(Number(process.env.PORT), process.env.HOST);
`;
// Forks: two children in its process group, and one that leaves it (setsid), then serves.
const FORKER = `
const { spawn } = require('child_process');
for (let i = 0; i < 2; i++) spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '${MARKER}-forkchild'], { stdio: 'ignore' });
spawn('setsid', [process.execPath, '-e', 'setInterval(() => {}, 1000)', '${MARKER}-forkescaped'], { stdio: 'ignore', detached: true });
require('./server.js');
`;

// Processes on this machine whose command line names this run's fixture `tag`.
function processes(tag: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(`${MARKER}-${tag}`)) found.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

async function freePortsOfRange(): Promise<number[]> {
  const free: number[] = [];
  for (let port = PORTS.from; port <= PORTS.to; port++) if (await portIsFree(port)) free.push(port);
  return free;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Dev-server previews under bubblewrap, on two tool-runner replicas: real processes, real ports.
describe('dev-server app preview', () => {
  const stack = integrationStack();
  const teamId = randomUUID();
  let a: RunningPlatform;
  let b: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let wsRoot: string;

  const info = (appId: string) => client.send(Rpc.previewGet, { teamId, appId });
  async function devApp(files: Record<string, string>, dev: string, more: Record<string, unknown> = {}): Promise<{ appId: string; host: string }> {
    const appId = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    writeFileSync(join(wsRoot, appId, 'package.json'), JSON.stringify({ name: 'fixture', private: true, scripts: { dev }, ...more }));
    for (const [path, content] of Object.entries(files)) writeFileSync(join(wsRoot, appId, path), content);
    return { appId, host: hostOf((await info(appId)).url) };
  }

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'preview-dev');
    wsRoot = join(dir, 'ws');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const env = {
      LOG_LEVEL: 'warn',
      PREVIEW_DEV_PORTS: `${PORTS.from}-${PORTS.to}`,
      PREVIEW_DEPS_DIR: join(dir, 'deps'),
      PREVIEW_DEV_READY_TIMEOUT_MS: '3000',
      PREVIEW_DEV_MAX_RESTARTS: '2',
      PREVIEW_DEV_MEMORY_MB: '400',
      PREVIEW_IDLE_STOP_MS: '4000',
      // No registry in tests: a dependency set that is not in the store fails fast.
      TOOL_NPM_REGISTRY_URL: 'http://127.0.0.1:9/',
    };
    const common = { root: REPO_ROOT, ...stack, workspacesDir: wsRoot, backupDir: join(dir, 'b'), env };
    a = await launchPlatform({ ...common, logDir: join(dir, 'logs-a'), services: ['tool-runner', 'git-service', 'analytics'] });
    b = await launchPlatform({ ...common, logDir: join(dir, 'logs-b'), services: ['tool-runner'] });
    nc = await connectNats(stack.natsUrl, 'preview-dev-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('preview-dev-e2e'), 30_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await b?.stop();
    await a?.stop();
  });

  it('runs the dev script sandboxed: no platform secrets, no other workspace, output captured', async () => {
    const other = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-sandbox`);
    const { appId, host } = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-sandbox`);
    expect(await info(appId)).toMatchObject({ mode: 'dev-server', state: 'stopped', reason: expect.stringContaining('next view') });

    const page = await previewRequest(a.previewPort, host, '/', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`Dev fixture ${MARKER}`);
    // The capture script comes first in <head>, as for static files.
    expect(page.text.indexOf('data-overskill-capture')).toBeLessThan(page.text.indexOf('<title>'));
    expect(await info(appId)).toMatchObject({ mode: 'dev-server', state: 'running' });

    const env = JSON.parse((await previewRequest(a.previewPort, host, '/env')).text) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['HOME', 'HOST', 'NODE_ENV', 'NO_COLOR', 'PATH', 'PORT', 'PWD']);
    const probe = async (path: string) =>
      JSON.parse((await previewRequest(a.previewPort, host, `/probe?path=${encodeURIComponent(path)}`)).text) as { ok: boolean };
    expect(await probe('/app')).toMatchObject({ ok: true });
    expect(await probe(join(wsRoot, other.appId))).toMatchObject({ ok: false });
    expect(await probe(wsRoot)).toMatchObject({ ok: false });
    expect(await probe('/app/../' + other.appId)).toMatchObject({ ok: false });
    expect(await probe(REPO_ROOT)).toMatchObject({ ok: false });

    // The same refusals as static files.
    expect((await previewRequest(a.previewPort, host, '/a/../../etc/passwd')).status).toBe(400);
    expect((await previewRequest(a.previewPort, host, '/.env')).status).toBe(404);

    // stdout reached the logs as `server` entries, its secret redacted.
    const logs = await until(
      () => client.send(Rpc.analyticsConsoleRead, { teamId, appId, since: '', limit: 20, minLevel: 'debug' }),
      (r) => r.entries.some((e) => e.source === 'server'),
    );
    const line = logs.entries.find((e) => e.source === 'server' && e.message.includes('dev fixture listening'));
    expect(line?.message).not.toContain('sk-ant-api03');
  }, 60_000);

  it('proxies websockets (HMR) and serves one dev server through either replica', async () => {
    const { appId, host } = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-replicas`);
    const viaB = await previewRequest(b.previewPort, host, '/', { headers: { accept: 'text/html' } });
    const viaA = await previewRequest(a.previewPort, host, '/', { headers: { accept: 'text/html' } });
    for (const res of [viaA, viaB])
      expect([res.status, res.text.includes('Dev fixture'), res.text.split('data-overskill-capture').length - 1]).toEqual([200, true, 1]);
    // One dev server for the app, whichever replica was asked.
    const before = processes('replicas');

    for (const port of [a.previewPort, b.previewPort]) {
      const socket = connect(port, '127.0.0.1');
      const received = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => {
          text += d.toString();
          if (text.includes('ping')) resolve(text);
        });
      });
      socket.write(
        `GET /hmr HTTP/1.1\r\nhost: ${host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: x\r\nsec-websocket-version: 13\r\n\r\n`,
      );
      socket.write('ping');
      const text = await received;
      socket.destroy();
      expect(text).toMatch(/^HTTP\/1\.1 101/);
      // The dev server is asked as its own loopback address.
      expect(text).toMatch(/host=127\.0\.0\.1:273\d\d;/);
    }
    expect((await info(appId)).state).toBe('running');
    expect(processes('replicas')).toEqual(before);
  }, 60_000);

  it('stops after the idle time and starts again on the next view', async () => {
    const { appId, host } = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-idle`);
    expect((await previewRequest(a.previewPort, host, '/', { headers: { accept: 'text/html' } })).status).toBe(200);
    const stopped = await until(
      () => info(appId),
      (i) => i.state === 'stopped',
      15_000,
    );
    expect(stopped).toMatchObject({ state: 'stopped', reason: expect.stringContaining('without views') });
    expect(processes('idle')).toEqual([]);
    expect((await previewRequest(b.previewPort, host, '/', { headers: { accept: 'text/html' } })).status).toBe(200);
    expect((await info(appId)).state).toBe('running');
  }, 30_000);

  it('gives each broken dev server a clear state, and leaves nothing running', async () => {
    const crashing = await devApp({}, `node -e "process.exit(3)" ${MARKER}-broken`);
    const silent = await devApp({}, `node -e "setInterval(() => {}, 1000)" ${MARKER}-broken`);
    const greedy = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-broken`);
    // Not in the store, and no registry to install it from.
    const withDeps = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-broken`, { dependencies: { 'left-pad': '1.3.0' } });

    const views = await Promise.all(
      [crashing, silent, withDeps].map((app) => previewRequest(a.previewPort, app.host, '/', { headers: { accept: 'text/html' } })),
    );
    expect(await previewRequest(a.previewPort, greedy.host, '/grow')).toMatchObject({ status: 200 });
    const states = await Promise.all(
      [crashing, silent, greedy, withDeps].map((app) =>
        until(
          () => info(app.appId),
          (i) => i.state === 'crashed',
        ),
      ),
    );
    expect(states.map((s) => `${s.state}: ${s.reason}`)).toEqual(states.map((s) => `crashed: ${s.reason}`));
    expect(states[0]?.reason).toMatch(/exited with code 3; it crashed 3 times in a row/);
    expect(states[1]?.reason).toMatch(/did not answer HTTP on its port within 3 s/);
    expect(states[2]?.reason).toMatch(/more than its memory limit \(400 MB\)/);
    expect(states[3]?.reason).toMatch(/Dependencies could not be installed/);
    // A view of a crashed preview says so (a page, or an error), and does not start it again.
    for (const view of views) expect([view.status, view.text.includes('The preview crashed')]).toEqual([502, true]);
    const asset = await previewRequest(b.previewPort, crashing.host, '/app.js');
    expect([asset.status, JSON.parse(asset.text).code]).toEqual([502, 'PREVIEW_CRASHED']);
    expect((await info(crashing.appId)).state).toBe('crashed');
    expect(
      await until(
        async () => processes('broken'),
        (p) => p.length === 0,
      ),
    ).toEqual([]);
  }, 60_000);

  it('kills forked children, even one that left the process group, with the dev server', async () => {
    const { appId, host } = await devApp({ 'server.js': SERVER, 'forker.js': FORKER }, `node forker.js ${MARKER}-forkmain`);
    expect((await previewRequest(a.previewPort, host, '/', { headers: { accept: 'text/html' } })).status).toBe(200);
    const first = await until(
      async () => [...processes('forkchild'), ...processes('forkescaped')],
      (p) => p.length === 3,
    );
    expect(first).toHaveLength(3);
    const firstMain = processes('forkmain');
    const restarted = await client.send(Rpc.previewRestart, { teamId, appId });
    expect(restarted.mode).toBe('dev-server');
    expect(
      await until(
        () => info(appId),
        (i) => i.state === 'running',
      ),
    ).toMatchObject({ state: 'running', reason: '' });
    const alive = (pids: number[]) => pids.filter((pid) => processes('fork').includes(pid));
    // The old server, its two children and the one that called setsid are all gone.
    expect(alive([...first, ...firstMain])).toEqual([]);
  }, 30_000);

  it('50 start/stop cycles leave no process and no port behind', async () => {
    const { appId, host } = await devApp({ 'server.js': SERVER }, `node server.js ${MARKER}-cycle`);
    // Ports of the range nobody holds before (every earlier dev server is stopped by now).
    const freeBefore = await until(freePortsOfRange, (free) => free.length === PORTS.to - PORTS.from + 1, 10_000);
    let running: number[] = [];
    for (let cycle = 0; cycle < 50; cycle++) {
      if (cycle > 0) await client.send(Rpc.previewRestart, { teamId, appId });
      const view = await previewRequest(cycle % 2 ? b.previewPort : a.previewPort, host, '/', { headers: { accept: 'text/html' } });
      expect(view.status).toBe(200);
      if (cycle === 0) running = processes('cycle');
    }
    // As many processes as one dev server has, none of them the first one's.
    const last = processes('cycle');
    expect([last.length, last.filter((pid) => running.includes(pid))]).toEqual([running.length, []]);
    expect(
      await until(
        () => info(appId),
        (i) => i.state === 'stopped',
        15_000,
      ),
    ).toMatchObject({ state: 'stopped' });
    expect(processes('cycle')).toEqual([]);
    const freeAfter = await freePortsOfRange();
    expect(freeBefore.filter((port) => !freeAfter.includes(port))).toEqual([]);
    // Nothing of any earlier test either: every dev server has been stopped for idleness by now.
    const commandLine = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(-120);
      } catch {
        return 'gone';
      }
    };
    expect(
      (
        await until(
          async () => processes(''),
          (left) => left.length === 0,
          10_000,
        )
      ).map(commandLine),
    ).toEqual([]);
  }, 120_000);
});

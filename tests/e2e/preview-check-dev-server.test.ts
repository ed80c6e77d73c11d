import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';
import { hostOf, previewRequest } from '../support/preview-http';

// Below Linux's ephemeral range, and apart from the other dev-server test's ports.
const PORTS = { from: 27340, to: 27349 };
const MARKER = `devcheck${randomUUID().slice(0, 8)}`;

// Like Vite: index.html loads /src/main.tsx, which only the dev server turns into JavaScript.
// Served as plain files, that module is TSX with a type the browser refuses.
const INDEX =
  '<!doctype html><html><head><title>app</title></head><body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body></html>';
const MAIN_TSX = "const root: HTMLElement = document.getElementById('root')!;\nroot.textContent = 'Rendered by the dev server';\n";
const SERVER = `
const http = require('http');
const fs = require('fs');
http.createServer((req, res) => {
  if (req.url === '/src/main.tsx') {
    // The transform a dev server does: types stripped, served as JavaScript.
    const js = fs.readFileSync('src/main.tsx', 'utf8').replace(': HTMLElement', '').replace(')!;', ');');
    res.setHeader('content-type', 'text/javascript');
    return res.end(js);
  }
  if (req.url === '/favicon.ico') { res.statusCode = 204; return res.end(); }
  res.setHeader('content-type', 'text/html');
  res.end(fs.readFileSync('index.html'));
}).listen(Number(process.env.PORT), process.env.HOST);
`;

// The headless check of a dev-server app opens what its dev server serves, at the current commit.
describe('preview check of a dev-server app', () => {
  const stack = integrationStack();
  const teamId = randomUUID();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let wsRoot: string;

  const check = (appId: string, sha: string) => client.send(Rpc.previewCheck, { teamId, appId, runId: randomUUID(), sha }, { timeoutMs: 45_000 });
  async function commit(appId: string, files: Record<string, string>): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(wsRoot, appId, path, '..'), { recursive: true });
      writeFileSync(join(wsRoot, appId, path), content);
    }
    return (await client.send(Rpc.gitRepoCommit, { appId, message: 'fixture' })).sha;
  }
  async function devApp(dev: string, files: Record<string, string>): Promise<{ appId: string; sha: string }> {
    const appId = randomUUID();
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    const sha = await commit(appId, { 'package.json': JSON.stringify({ name: 'fixture', private: true, scripts: { dev } }), ...files });
    return { appId, sha };
  }

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'preview-check-dev');
    wsRoot = join(dir, 'ws');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const env = {
      LOG_LEVEL: 'warn',
      PREVIEW_DEV_PORTS: `${PORTS.from}-${PORTS.to}`,
      PREVIEW_DEPS_DIR: join(dir, 'deps'),
      PREVIEW_DEV_READY_TIMEOUT_MS: '10000',
      PREVIEW_DEV_MAX_RESTARTS: '0',
      TOOL_NPM_REGISTRY_URL: 'http://127.0.0.1:9/',
    };
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: wsRoot,
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      env,
      services: ['tool-runner', 'git-service', 'analytics'],
    });
    nc = await connectNats(stack.natsUrl, 'preview-check-dev-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('preview-check-dev-e2e'), 30_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('checks the page the dev server serves clean, and says an older version cannot be checked live', async () => {
    const { appId, sha } = await devApp(`node server.js ${MARKER}`, { 'server.js': SERVER, 'index.html': INDEX, 'src/main.tsx': MAIN_TSX });
    // The raw file of that version is TSX, which no browser runs as a module.
    const info = await client.send(Rpc.previewGet, { teamId, appId });
    const raw = await previewRequest(platform.previewPort, hostOf(info.url).replace(/^([a-z0-9]+)\./, `$1-${sha}.`), '/src/main.tsx');
    expect([raw.status, raw.headers['content-type']]).toEqual([200, expect.not.stringContaining('javascript')]);

    const live = await check(appId, sha);
    expect(live).toMatchObject({
      sha,
      outcome: 'passed',
      consoleErrors: [],
      pageErrors: [],
      failedRequests: [],
      blank: false,
      screenshot: true,
      url: info.url,
    });
    expect((await client.send(Rpc.previewGet, { teamId, appId })).state).toBe('running');

    const next = await commit(appId, { 'notes.md': 'a second version' });
    const older = await check(appId, sha);
    expect(older).toMatchObject({ sha, outcome: 'unavailable', pageErrors: [], consoleErrors: [], failedRequests: [], screenshot: false });
    expect(older.reason).toContain(`not the workspace's current commit (${next.slice(0, 12)})`);
    expect(await check(appId, next)).toMatchObject({ sha: next, outcome: 'passed' });
  }, 60_000);

  it('reports a dev server that crashes as a failure, with its state and reason', async () => {
    const { appId, sha } = await devApp(`node -e "console.error('boom ${MARKER}'); process.exit(3)"`, { 'index.html': INDEX });
    const result = await check(appId, sha);
    expect(result).toMatchObject({ sha, outcome: 'failed', screenshot: false });
    expect(result.reason).toMatch(/^The dev server is crashed: The dev server exited with code 3/);
    expect(result.reason).toContain(`boom ${MARKER}`);
    expect(result.pageErrors).toEqual([result.reason]);
  }, 60_000);
});

import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, WebOriginFake, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// The fetch tools of the real tool-runner against a local origin on 127.0.0.1, which this suite
// (only) allowlists. Every refused target below is refused at the guard's decision, before a
// connection exists: the only traffic is to the origin, and the origin sees exactly the first hop.
describe('tool-runner SSRF guard (corpus against a local origin)', () => {
  const stack = integrationStack();
  const origin = new WebOriginFake();
  const appId = randomUUID();
  let root: string;
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let port: string;

  const call = async (name: string, input: Record<string, unknown>) =>
    client.send(
      Rpc.toolCallExecute,
      { teamId: 'team-net', appId, runId: 'run-net', toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) },
      { timeoutMs: 20_000 },
    );

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'tool-network');
    root = join(dir, 'workspaces', appId);
    mkdirSync(root, { recursive: true });
    await origin.start();
    port = new URL(origin.url).port;
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['tool-runner'],
      env: {
        LOG_LEVEL: 'warn',
        TOOL_FETCH_ALLOWLIST: '127.0.0.1',
        TOOL_FETCH_TIMEOUT_MS: '1500',
        TOOL_FETCH_MAX_BYTES: '20000',
        TOOL_FETCH_MAX_REDIRECTS: '3',
        TOOL_MAX_FILE_SIZE_BYTES: '50000',
      },
    });
    nc = await connectNats(stack.natsUrl, 'tool-network-test', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('tool-network-test'), 20_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await origin.stop();
  });
  beforeEach(() => origin.reset());

  // Targets a model might be tricked into; 127.0.0.1 itself is the allowlisted origin, so the
  // loopback cases use other loopback addresses and spellings.
  const REFUSED = (p: string): string[] => [
    `http://127.0.0.2:${p}/`,
    `http://127.1.2.3:${p}/`,
    `http://2130706434:${p}/`, // 127.0.0.2, decimal
    `http://0x7f000002:${p}/`, // hex
    `http://0177.0.0.2:${p}/`, // octal
    `http://127.2:${p}/`, // short form
    `http://0.0.0.0:${p}/`,
    `http://0:${p}/`,
    `http://[::1]:${p}/`,
    `http://[::]:${p}/`,
    `http://[::ffff:127.0.0.1]:${p}/`, // IPv4-mapped form of the allowlisted address itself
    `http://[::ffff:7f00:2]:${p}/`,
    `http://[::127.0.0.1]:${p}/`,
    `http://localhost:${p}/`,
    `http://sub.localhost:${p}/`,
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://2852039166/latest/meta-data/', // 169.254.169.254, decimal
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://100.100.100.200/latest/meta-data/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.0.1/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://224.0.0.251/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    `http://user:pw@127.0.0.1:${p}/`,
  ];

  it('refuses every forbidden target given directly, with TOOL_FETCH_BLOCKED and the reason', async () => {
    const targets = REFUSED(port);
    expect(targets.length).toBeGreaterThanOrEqual(20);
    const wrong: string[] = [];
    for (const url of targets) {
      for (const tool of ['fetch_website', 'download_to_repo'] as const) {
        const reply = await call(tool, tool === 'fetch_website' ? { url } : { url, path: `dl/${randomUUID()}.bin` });
        if (reply.errorCode !== ErrorCode.TOOL_FETCH_BLOCKED) wrong.push(`${tool} ${url} → ${reply.errorCode || 'ok'}: ${reply.output.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(origin.requests).toEqual([]);
    expect(existsSync(join(root, 'dl'))).toBe(false);
  });

  it('refuses every forbidden target reached by a redirect, at that hop', async () => {
    const targets = REFUSED(port);
    const wrong: string[] = [];
    for (const [i, target] of targets.entries()) {
      origin.redirect(`/r${i}`, target);
      const reply = await call('fetch_website', { url: `${origin.url}/r${i}` });
      if (reply.errorCode !== ErrorCode.TOOL_FETCH_BLOCKED) wrong.push(`${target} → ${reply.errorCode || 'ok'}: ${reply.output.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    // Only the first hop of each ever reached a server.
    expect(origin.requests.map((r) => r.path)).toEqual(targets.map((_, i) => `/r${i}`));
  });

  it('fetches an allowed page, following allowed redirects', async () => {
    origin.redirect('/a', '/b', 301).redirect('/b', `http://127.0.0.1:${port}/page`, 307);
    origin.html('/page', '<title>T</title><article><p>Hello <a href="/x">there</a></p></article>');
    expect((await call('fetch_website', { url: `${origin.url}/a` })).output).toBe(
      `# T\n\nSource: ${origin.url}/page (redirected from ${origin.url}/a)\n\nHello [there](${origin.url}/x)`,
    );
  });

  it('caps redirects, time, size (also after decompression) and content types', async () => {
    origin.redirect('/loop', '/loop');
    origin.route('/slow', { delayMs: 4000, headers: { 'content-type': 'text/html' }, body: 'late' });
    origin.route('/trickle', { headers: { 'content-type': 'text/html' }, body: 'x'.repeat(200), chunks: 50, chunkDelayMs: 100 });
    origin.route('/endless', { headers: { 'content-type': 'text/html' }, endless: Buffer.alloc(4096, 'x') });
    origin.route('/bomb', { headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(5_000_000, 'a')) });
    origin.route('/exe', { headers: { 'content-type': 'application/x-msdownload' }, body: 'MZ' });
    origin.route('/zip', { headers: { 'content-type': 'application/zip' }, body: 'PK' });
    origin.route('/big-image', { headers: { 'content-type': 'image/png' }, body: Buffer.alloc(60_000) });
    const cases: Array<[string, Record<string, unknown>, ErrorCode]> = [
      ['fetch_website', { url: `${origin.url}/loop` }, ErrorCode.TOOL_FETCH_REDIRECT_LIMIT],
      ['fetch_website', { url: `${origin.url}/slow` }, ErrorCode.TOOL_FETCH_TIMEOUT],
      ['fetch_website', { url: `${origin.url}/trickle` }, ErrorCode.TOOL_FETCH_TIMEOUT],
      ['fetch_website', { url: `${origin.url}/endless` }, ErrorCode.TOOL_FETCH_TOO_LARGE],
      ['fetch_website', { url: `${origin.url}/bomb` }, ErrorCode.TOOL_FETCH_TOO_LARGE],
      ['fetch_website', { url: `${origin.url}/exe` }, ErrorCode.TOOL_FETCH_CONTENT_TYPE],
      ['download_to_repo', { url: `${origin.url}/zip`, path: 'a.zip' }, ErrorCode.TOOL_FETCH_CONTENT_TYPE],
      ['download_to_repo', { url: `${origin.url}/big-image`, path: 'big.png' }, ErrorCode.TOOL_FETCH_TOO_LARGE],
      ['fetch_website', { url: `${origin.url}/missing` }, ErrorCode.TOOL_FETCH_FAILED],
    ];
    for (const [tool, input, code] of cases) expect([tool, input, (await call(tool, input)).errorCode]).toEqual([tool, input, code]);
    expect(readdirSync(root)).toEqual([]);
  }, 60_000);
});

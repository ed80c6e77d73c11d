import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { aiV1, analyticsV1, ErrorCode, Events, orchestratorV1, Rpc, runEventsSubject, Streams, toolV1 } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, WebOriginFake, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, type NatsConnection } from 'nats';
import sharp from 'sharp';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// tool-runner as deployed: two replicas from dist/ in one queue group, git-service beside them,
// the shared Redis lock, JetStream EVENTS; the outside world (npm registry, search provider,
// web pages) is a loopback origin.
describe('tool-runner end to end', () => {
  const stack = integrationStack();
  const origin = new WebOriginFake();
  const appId = randomUUID();
  const runId = randomUUID();
  const platforms: RunningPlatform[] = [];
  let workspaces: string;
  let root: string;
  let nc: NatsConnection;
  let client: NatsRpcClient;

  const call = async (name: string, input: unknown) =>
    client.send(
      Rpc.toolCallExecute,
      { teamId: 'team-e2e', appId, runId, toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) },
      { timeoutMs: 30_000 },
    );

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'tool-runner');
    workspaces = join(dir, 'workspaces');
    root = join(workspaces, appId);
    const base = await origin.start();
    const env = {
      LOG_LEVEL: 'warn',
      TOOL_FETCH_ALLOWLIST: '127.0.0.1',
      TOOL_NPM_REGISTRY_URL: `${base}/npm`,
      TOOL_NPM_LOOKUP_TIMEOUT_MS: '500',
      TOOL_WEB_SEARCH_PROVIDER: 'searxng',
      TOOL_WEB_SEARCH_URL: `${base}/searx`,
      TOOL_DELEGATE_TIMEOUT_MS: '3000',
      TOOL_IMAGE_TIMEOUT_MS: '3000',
    };
    const common = { root: REPO_ROOT, ...stack, workspacesDir: workspaces, backupDir: join(dir, 'backups'), env };
    platforms.push(await launchPlatform({ ...common, logDir: join(dir, 'logs-a'), services: ['tool-runner', 'git-service'] }));
    platforms.push(await launchPlatform({ ...common, logDir: join(dir, 'logs-b'), services: ['tool-runner'] }));
    nc = await connectNats(stack.natsUrl, 'tool-runner-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('tool-runner-e2e'), 30_000);
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    for (const p of platforms) await p.stop();
    await origin.stop();
  });

  it('lists the whole catalog with JSON schemas', async () => {
    const { tools } = await client.send(Rpc.toolCatalogList, {});
    expect(tools).toHaveLength(23);
    expect(tools.map((t) => t.name)).toContain('search_files');
    expect(JSON.parse(tools.find((t) => t.name === 'search_files')!.inputSchemaJson)).toMatchObject({ type: 'object', required: ['pattern'] });
  });

  it('writes, edits, searches and reads files through NATS', async () => {
    expect(await call('write_file', { path: 'src/app.js', content: 'const greeting = "hi";\nconsole.log(greeting);\n' })).toMatchObject({ isError: false });
    expect(await call('update_file', { path: 'src/app.js', search: '"hi"', replace: '"hello"' })).toMatchObject({ isError: false });
    expect((await call('search_files', { pattern: 'greeting', include: ['*.js'] })).output).toBe(
      '2 matching lines in 1 file:\nsrc/app.js:1: const greeting = "hello";\nsrc/app.js:2: console.log(greeting);',
    );
    expect((await call('read_file', { path: 'src/app.js' })).output).toBe('const greeting = "hello";\nconsole.log(greeting);\n');
    expect(await call('write_file', { path: 'src/app.js', content: 42 })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_INPUT_INVALID,
      output: expect.stringContaining('content must be string'),
    });
  });

  it('never interleaves writes to one app across replicas (the Redis lock)', async () => {
    await call('write_file', { path: 'log.txt', content: '<!--end-->\n' });
    // Every call reads the file, appends a line and writes it back: without the lock, replicas
    // would overwrite each other's lines.
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call('update_file', { path: 'log.txt', search: '<!--end-->', replace: `line ${i}\n<!--end-->` })),
    );
    expect(replies.filter((r) => r.isError)).toEqual([]);
    const lines = readFileSync(join(root, 'log.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('line '));
    expect(lines.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i}`).sort());
    // Both replicas did some of the work.
    for (const p of platforms) {
      const metrics = await (await fetch(`${p.urls['tool-runner']}/metrics`)).text();
      expect(metrics).toMatch(/tool_executions_total\{tool="update_file",outcome="ok",service="tool-runner"\} [1-9]/);
    }
  });

  it('publishes tool.executed.v1 on the EVENTS stream for every execution', async () => {
    const toolUseId = randomUUID();
    await client.send(Rpc.toolCallExecute, { teamId: 'team-e2e', appId, runId, toolUseId, name: 'read_file', inputJson: '{"path":"missing.txt"}' });
    const jsm = await nc.jetstreamManager();
    const consumer = await jsm.consumers.add(Streams.EVENTS.name, {
      filter_subject: Events.toolExecuted.subject,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.None,
      inactive_threshold: 30_000_000_000,
    });
    const messages = await (await nc.jetstream().consumers.get(Streams.EVENTS.name, consumer.name)).fetch({ max_messages: 1000, expires: 2000 });
    const events: toolV1.ToolExecuted[] = [];
    for await (const m of messages) {
      events.push(fromBinary(toolV1.ToolExecutedSchema, m.data));
      if (events.some((e) => e.toolUseId === toolUseId)) break;
    }
    const event = events.find((e) => e.toolUseId === toolUseId);
    expect(event).toMatchObject({ tool: 'read_file', appId, runId, teamId: 'team-e2e', outcome: ErrorCode.TOOL_FILE_NOT_FOUND, bytesWritten: 0n });
    expect(event!.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event!.durationMs).toBeGreaterThan(0);
    expect(events.filter((e) => e.appId === appId && e.tool === 'update_file' && e.outcome === 'ok').length).toBeGreaterThanOrEqual(40);
  });

  it('adds and removes dependencies, checking the (fake) npm registry', async () => {
    origin.json('/npm/react', { name: 'react', 'dist-tags': { latest: '18.3.1' }, versions: { '18.2.0': {}, '18.3.1': {} } });
    origin.json('/npm/@scope%2fwidget', { name: '@scope/widget', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': {} } });
    origin.route('/npm/flaky', { status: 503 });
    origin.route('/npm/slowpoke', { delayMs: 2000, status: 200, body: '{}' });
    expect((await call('add_dependency', { name: 'react' })).output).toContain(
      'Added react@^18.3.1 in dependencies (checked against the npm registry: latest is 18.3.1; package.json was created)',
    );
    expect((await call('add_dependency', { name: '@scope/widget', version: '^1', dev: true })).output).toContain(
      'checked against the npm registry: ^1 resolves to 1.0.0',
    );
    expect(await call('add_dependency', { name: 'no-such-package-xyz' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PACKAGE_NOT_FOUND });
    expect((await call('add_dependency', { name: 'flaky', version: '^2.0.0' })).output).toContain('NOT checked: the npm registry');
    expect((await call('add_dependency', { name: 'slowpoke', version: '1.x' })).output).toContain('no answer within 500 ms');
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).toMatchObject({
      dependencies: { flaky: '^2.0.0', react: '^18.3.1', slowpoke: '1.x' },
      devDependencies: { '@scope/widget': '^1' },
    });
    expect((await call('remove_dependency', { name: 'flaky' })).output).toBe('Removed flaky from dependencies');
    expect(origin.requests.find((r) => r.path === '/npm/react')?.headers.accept).toContain('application/vnd.npm.install-v1+json');
  });

  it('searches the web through the configured provider', async () => {
    origin.json('/searx/search?q=nestjs+nats&format=json', {
      results: [{ title: 'NestJS <b>NATS</b>', url: 'https://docs.nestjs.com/microservices/nats', content: 'NATS transport' }],
    });
    expect((await call('web_search', { query: 'nestjs nats', count: 3 })).output).toBe(
      '1. NestJS NATS\n   https://docs.nestjs.com/microservices/nats\n   NATS transport',
    );
  });

  it('fetches a page as Markdown and downloads a file from the (allowlisted) loopback origin', async () => {
    origin.html('/docs', '<html><head><title>Guide</title></head><body><main><h1>Install</h1><p>Run <code>npm i</code>.</p></main></body></html>');
    origin.redirect('/old-docs', '/docs', 301);
    origin.route('/logo.svg', { headers: { 'content-type': 'image/svg+xml' }, body: '<svg xmlns="http://www.w3.org/2000/svg"/>' });
    expect((await call('fetch_website', { url: `${origin.url}/old-docs` })).output).toBe(
      `# Guide\n\nSource: ${origin.url}/docs (redirected from ${origin.url}/old-docs)\n\n# Install\n\nRun \`npm i\`.`,
    );
    expect(await call('download_to_repo', { url: `${origin.url}/logo.svg`, path: 'public/logo.svg' })).toMatchObject({ isError: false, bytesWritten: 41n });
    expect(readFileSync(join(root, 'public/logo.svg'), 'utf8')).toBe('<svg xmlns="http://www.w3.org/2000/svg"/>');
  });

  it('commits, logs, diffs, branches and reports status through git-service', async () => {
    expect((await call('git_status', {})).output).toMatch(/^On branch \S+ \([0-9a-f]{12}\)\nChanges not committed yet/);
    expect((await call('git_diff', {})).output).toMatch(/file(s)? changed/);
    expect((await call('git_commit', { message: 'Add the app files' })).output).toMatch(/^Committed [0-9a-f]{12}: Add the app files/);
    expect((await call('git_status', {})).output).toContain('Nothing to commit, working tree clean.');
    expect((await call('git_log', { limit: 1 })).output).toMatch(/^[0-9a-f]{12} \S+ .+: Add the app files$/);
    expect((await call('git_branch', { action: 'create', name: 'feature-x' })).output).toMatch(/^Created branch feature-x at [0-9a-f]{12}$/);
    expect((await call('git_branch', { action: 'list' })).output).toMatch(/ {2}feature-x [0-9a-f]{12}/);
    expect(await call('git_branch', { action: 'switch', name: 'no-such-branch' })).toMatchObject({ isError: true, errorCode: ErrorCode.GIT_BRANCH_NOT_FOUND });
  });

  it("puts broadcast_progress on the run's live event stream", async () => {
    const sub = nc.subscribe(runEventsSubject(runId), { max: 1 });
    const received = (async () => {
      for await (const m of sub) return fromBinary(orchestratorV1.RunEventSchema, m.data);
      return undefined;
    })();
    await nc.flush();
    expect(await call('broadcast_progress', { message: 'Adding the header' })).toMatchObject({ isError: false });
    expect(await received).toMatchObject({ runId, kind: 'progress', summary: 'Adding the header', seq: 0 });
  });

  it('answers TOOL_DEPENDENCY_UNAVAILABLE while analytics and ai-router do not serve their subjects', async () => {
    for (const [name, input] of [
      ['read_console_logs', {}],
      ['read_network_requests', { failed_only: true }],
      ['read_analytics', { days: 7 }],
      ['generate_image', { prompt: 'a logo', path: 'public/logo.png' }],
    ] as const) {
      const reply = await call(name, input);
      expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_DEPENDENCY_UNAVAILABLE });
      expect(reply.output).toMatch(/(analytics|ai-router) (is not running|does not serve it yet)/);
    }
  });

  it('works end to end once the owners answer (stand-ins speaking the registry contract)', async () => {
    // A real PNG: tool-runner decodes every image with sharp now (a bare header is refused).
    const png = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const consoleSub = nc.subscribe(Rpc.analyticsConsoleRead.subject, {
      callback: (_err, msg) => {
        const req = fromBinary(analyticsV1.ConsoleLogsReadRequestSchema, msg.data);
        const entries =
          req.appId === appId
            ? [{ level: 'error', message: 'Uncaught ReferenceError: x is not defined', source: 'app.js:1:1', occurredAt: '2026-01-01T00:00:00Z' }]
            : [];
        msg.respond(
          toBinary(analyticsV1.ConsoleLogsReadResponseSchema, create(analyticsV1.ConsoleLogsReadResponseSchema, { entries, total: BigInt(entries.length) })),
        );
      },
    });
    const imageSub = nc.subscribe(Rpc.aiImageGenerate.subject, {
      callback: (_err, msg) => {
        const req = fromBinary(aiV1.ImageGenerateRequestSchema, msg.data);
        msg.respond(
          toBinary(
            aiV1.ImageGenerateResponseSchema,
            create(aiV1.ImageGenerateResponseSchema, { image: png, mimeType: req.mimeType, width: 64, height: 32, model: 'stand-in' }),
          ),
        );
      },
    });
    try {
      await nc.flush();
      expect((await call('read_console_logs', { min_level: 'error' })).output).toBe(
        '2026-01-01T00:00:00Z [error] Uncaught ReferenceError: x is not defined (app.js:1:1)',
      );
      expect((await call('generate_image', { prompt: 'a logo', path: 'public/logo.png', width: 64, height: 32 })).output).toBe(
        `Generated public/logo.png (64x32 image/png, ${png.length} bytes, stand-in)`,
      );
      expect(existsSync(join(root, 'public/logo.png'))).toBe(true);
    } finally {
      consoleSub.unsubscribe();
      imageSub.unsubscribe();
    }
  });
});

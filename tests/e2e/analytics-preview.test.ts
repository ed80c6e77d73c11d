import { ErrorCode, Events, Rpc, type EventDefinition } from '@overskill/contracts';
import { connectNats, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// The app preview's telemetry facts go onto the EVENTS stream, analytics stores them, and the
// model reads them back through tool-runner's read_console_logs / read_network_requests /
// read_analytics (tool.call.execute.v1 → analytics.{console,network,report}.read.v1).
describe('preview telemetry through analytics and the preview tools', () => {
  const stack = integrationStack();
  const teamId = randomUUID();
  const appId = randomUUID();
  const otherTeamId = randomUUID();
  const otherAppId = randomUUID();
  const t0 = Date.now() - 60_000;
  const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;

  const call = (name: string, input: unknown, caller: { teamId: string; appId: string } = { teamId, appId }) =>
    client.send(
      Rpc.toolCallExecute,
      { ...caller, runId: randomUUID(), toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) },
      { timeoutMs: 30_000 },
    );

  const publish = (def: EventDefinition, fact: Record<string, unknown>) =>
    publishDurable(nc, def as typeof Events.previewConsoleLogged, fact as never, { msgId: randomUUID() });

  async function waitStored(def: EventDefinition, team: string, expected: number): Promise<void> {
    for (let i = 0; i < 150; i++) {
      if (Number((await client.send(Rpc.analyticsEventCount, { type: def.subject, teamId: team })).count) >= expected) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${def.subject}: fewer than ${expected} stored for ${team}`);
  }

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'analytics-preview');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'ws'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['analytics', 'tool-runner', 'git-service'],
      env: { LOG_LEVEL: 'warn', TOOL_DELEGATE_TIMEOUT_MS: '5000', TOOL_IMAGE_TIMEOUT_MS: '3000' },
    });
    nc = await connectNats(stack.natsUrl, 'analytics-preview-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('analytics-preview-e2e'), 30_000);
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });

    const consoleFact = (level: string, message: string, s: number, source = '') => ({
      teamId,
      appId,
      level,
      message,
      source,
      pageUrl: 'http://preview.local/',
      occurredAt: at(s),
    });
    await publish(Events.previewConsoleLogged, consoleFact('debug', 'booting', 1));
    await publish(Events.previewConsoleLogged, consoleFact('info', 'ready', 2));
    await publish(Events.previewConsoleLogged, consoleFact('warn', 'slow render', 3));
    await publish(Events.previewConsoleLogged, consoleFact('error', 'TypeError: todo is undefined', 4, 'http://preview.local/app.js:10:5'));
    await publish(Events.previewConsoleLogged, consoleFact('error', 'Failed to fetch', 5));
    // Another team's app: never visible to this team, nor this app to that team.
    await publish(Events.previewConsoleLogged, {
      teamId: otherTeamId,
      appId: otherAppId,
      level: 'error',
      message: 'secret of another team',
      source: '',
      pageUrl: '',
      occurredAt: at(6),
    });

    const request = (method: string, url: string, status: number, s: number, error = '') => ({
      teamId,
      appId,
      method,
      url,
      status,
      durationMs: 10 * s + 0.4,
      error,
      pageUrl: 'http://preview.local/',
      occurredAt: at(s),
    });
    await publish(Events.previewNetworkRequested, request('GET', '/api/todos', 200, 1));
    await publish(Events.previewNetworkRequested, request('POST', '/api/todos', 500, 2));
    await publish(Events.previewNetworkRequested, request('GET', '/api/user', 0, 3, 'net::ERR_FAILED'));
    await publish(Events.previewNetworkRequested, request('GET', '/styles.css', 304, 4));

    const view = (path: string, visitorId: string, loadMs: number, occurredAt: string) => ({ teamId, appId, path, visitorId, loadMs, occurredAt });
    await publish(Events.previewPageViewed, view('/', 'v1', 100, at(1)));
    await publish(Events.previewPageViewed, view('/todos', 'v2', 200, at(2)));
    await publish(Events.previewPageViewed, view('/', 'v2', 300, at(3)));
    await publish(Events.previewPageViewed, view('/about', 'v3', 400, at(4)));
    await publish(Events.previewPageViewed, view('/', 'v1', 500, at(5)));
    await publish(Events.previewPageViewed, view('/old', 'v9', 600, new Date(Date.now() - 10 * 86_400_000).toISOString()));

    await waitStored(Events.previewConsoleLogged, teamId, 5);
    await waitStored(Events.previewConsoleLogged, otherTeamId, 1);
    await waitStored(Events.previewNetworkRequested, teamId, 4);
    await waitStored(Events.previewPageViewed, teamId, 6);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('reads the console newest first, with level threshold, since and limit', async () => {
    expect(await call('read_console_logs', {})).toMatchObject({
      isError: false,
      output: [
        `${at(5)} [error] Failed to fetch`,
        `${at(4)} [error] TypeError: todo is undefined (http://preview.local/app.js:10:5)`,
        `${at(3)} [warn] slow render`,
        `${at(2)} [info] ready`,
        `${at(1)} [debug] booting`,
      ].join('\n'),
    });
    expect((await call('read_console_logs', { min_level: 'warn' })).output).toBe(
      [
        `${at(5)} [error] Failed to fetch`,
        `${at(4)} [error] TypeError: todo is undefined (http://preview.local/app.js:10:5)`,
        `${at(3)} [warn] slow render`,
      ].join('\n'),
    );
    expect((await call('read_console_logs', { min_level: 'info', limit: 2 })).output).toBe(
      [
        `${at(5)} [error] Failed to fetch`,
        `${at(4)} [error] TypeError: todo is undefined (http://preview.local/app.js:10:5)`,
        '(2 older entries not shown)',
      ].join('\n'),
    );
    expect((await call('read_console_logs', { since: at(3) })).output).toBe(
      [`${at(5)} [error] Failed to fetch`, `${at(4)} [error] TypeError: todo is undefined (http://preview.local/app.js:10:5)`].join('\n'),
    );
    expect((await call('read_console_logs', { since: at(30) })).output).toBe('The preview console has no entries.');
  });

  it('reads network requests newest first, failed_only keeping status 0 and >= 400', async () => {
    expect((await call('read_network_requests', {})).output).toBe(
      [
        `${at(4)} GET /styles.css → 304 (40 ms)`,
        `${at(3)} GET /api/user → failed: net::ERR_FAILED (30 ms)`,
        `${at(2)} POST /api/todos → 500 (20 ms)`,
        `${at(1)} GET /api/todos → 200 (10 ms)`,
      ].join('\n'),
    );
    expect((await call('read_network_requests', { failed_only: true })).output).toBe(
      [`${at(3)} GET /api/user → failed: net::ERR_FAILED (30 ms)`, `${at(2)} POST /api/todos → 500 (20 ms)`].join('\n'),
    );
    expect((await call('read_network_requests', { failed_only: true, limit: 1 })).output).toBe(
      `${at(3)} GET /api/user → failed: net::ERR_FAILED (30 ms)\n(1 older requests not shown)`,
    );
  });

  it('reports page views, visitors, top pages, errors and load time over the period', async () => {
    expect((await call('read_analytics', {})).output).toBe(
      [
        'Last 7 days: 5 page views, 3 unique visitors, average load 300 ms',
        'Console errors: 2; failed requests: 2',
        'Top pages:\n  /: 3 views, 2 visitors\n  /about: 1 views, 1 visitors\n  /todos: 1 views, 1 visitors',
      ].join('\n'),
    );
    expect((await call('read_analytics', { days: 30 })).output).toContain('Last 30 days: 6 page views, 4 unique visitors, average load 350 ms');
    const direct = await client.send(Rpc.analyticsReportRead, { teamId, appId, days: 0 });
    expect(direct).toMatchObject({ days: 7, pageViews: 5n, uniqueVisitors: 3n, consoleErrors: 2n, failedRequests: 2n, avgLoadMs: 300 });
  });

  it("shows nothing of another team's app", async () => {
    expect((await call('read_console_logs', {}, { teamId, appId: otherAppId })).output).toBe('The preview console has no entries.');
    expect((await call('read_console_logs', {}, { teamId: otherTeamId, appId })).output).toBe('The preview console has no entries.');
    expect((await call('read_network_requests', {}, { teamId: otherTeamId, appId })).output).toBe('The preview made no requests yet.');
    expect((await call('read_analytics', {}, { teamId: otherTeamId, appId })).output).toContain('0 page views, 0 unique visitors');
    // The owner itself sees its own entry.
    expect((await call('read_console_logs', {}, { teamId: otherTeamId, appId: otherAppId })).output).toBe(`${at(6)} [error] secret of another team`);
  });

  it('rejects a bad since with VALIDATION_FAILED', async () => {
    expect(await call('read_console_logs', { since: '2026-13-45T99:00:00Z' })).toMatchObject({ isError: true, errorCode: ErrorCode.VALIDATION_FAILED });
    expect(await call('read_network_requests', { since: '2026-01-01Tnoon' })).toMatchObject({ isError: true, errorCode: ErrorCode.VALIDATION_FAILED });
    await expect(client.send(Rpc.analyticsConsoleRead, { teamId, appId, minLevel: 'fatal', since: '', limit: 10 })).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
    });
  });
});

import {
  AnthropicFake,
  launchPlatform,
  OtlpCollectorFake,
  OtlpSpanKind,
  runAllMigrations,
  type CollectedSpan,
  type RunningPlatform,
  stackNatsCredentials,
} from '@overskill/testing';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { simpleGit } from 'simple-git';
import { Events, Rpc } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { createApiKey, createTeamKey, runCli } from '../support/cli';
import { integrationStack, jsonBody, REPO_ROOT, scratchDir } from '../support/integration-env';

// The thin slice through every hop: gateway → orchestrator → ai-router (real Anthropic SDK
// against the local fake) → tool-runner writes a file → git-service commits it.
describe('first flow: a chat message becomes a committed file', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  const collector = new OtlpCollectorFake();
  let platform: RunningPlatform;
  let workspacesDir: string;
  let gateway: string;
  let ownerKey: string;
  let teamId: string;
  let nc: NatsConnection;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'first-flow');
    workspacesDir = join(dir, 'workspaces');
    const anthropicUrl = await anthropic.start();
    const otlpUrl = await collector.start();
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      env: {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: anthropicUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        LOG_LEVEL: 'warn',
      },
    });
    gateway = platform.urls.gateway!;
    ({ key: ownerKey, teamId } = createTeamKey(stack, 'first-flow'));
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await anthropic.stop();
    await collector.stop();
  });

  const api = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${gateway}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.key === '' ? {} : { 'x-api-key': init.key ?? ownerKey }),
        ...(init.headers as Record<string, string>),
      },
    });

  async function waitForRun(
    runId: string,
    key = ownerKey,
  ): Promise<{ status: string; commitSha: string | null; steps: Array<{ kind: string }>; error: unknown }> {
    for (let i = 0; i < 200; i++) {
      const run = await jsonBody(await api(`/api/runs/${runId}`, { key }));
      if (['completed', 'failed', 'cancelled'].includes(run.status)) return run;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not finish`);
  }

  it('writes the file, commits it, and traces every hop in one trace', async () => {
    anthropic.reset();
    anthropic.script(
      {
        content: [
          { type: 'text', text: 'Creating the page.' },
          { type: 'tool_use', name: 'write_file', input: { path: 'hello.html', content: '<h1>Hello from overskill</h1>\n' } },
        ],
      },
      { content: [{ type: 'text', text: 'Done.' }] },
    );
    const created = await api('/api/apps', { method: 'POST', body: JSON.stringify({ name: 'Hello', template: 'empty' }) });
    expect(created.status).toBe(201);
    const app = await jsonBody(created);

    const traceId = randomBytes(16).toString('hex');
    const posted = await api(`/api/apps/${app.id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ content: 'Add a hello page' }),
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(posted.status).toBe(202);
    const { runId, eventsUrl } = await jsonBody(posted);
    expect(eventsUrl).toBe(`/api/runs/${runId}/events`);

    const run = await waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', error: null });
    // hello.html is no index.html: the preview check after the commit says there is no page to check.
    expect(run.steps.map((s) => s.kind)).toEqual(['run_started', 'model_call', 'tool_call', 'model_call', 'commit', 'preview_check', 'run_completed']);

    // The file and the commit exist.
    expect(readFileSync(join(workspacesDir, app.id, 'hello.html'), 'utf8')).toBe('<h1>Hello from overskill</h1>\n');
    const log = await simpleGit(join(workspacesDir, app.id)).log();
    expect(log.latest?.hash).toBe(run.commitSha);
    expect(log.latest?.message).toBe('Add a hello page');
    expect(log.total).toBe(2);

    // The model saw the tool catalog and got the tool result back.
    expect(anthropic.requests).toHaveLength(2);
    expect(anthropic.requests[0]!.body.tools.map((t: { name: string }) => t.name)).toContain('write_file');
    expect(JSON.stringify(anthropic.requests[1]!.body.messages)).toContain('Wrote hello.html');

    // ONE trace holds spans from the five services on the path.
    const services = ['gateway', 'orchestrator', 'ai-router', 'tool-runner', 'git-service'];
    // Every span but the root has its parent in the same trace: nothing is orphaned. Spans
    // arrive in export batches, so wait for the whole tree rather than the first of each service.
    const orphans = (spans: CollectedSpan[]) => {
      const inTrace = spans.filter((s) => s.traceId === traceId);
      const ids = new Set(inTrace.map((s) => s.spanId));
      return inTrace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => s.name);
    };
    // Below the NATS hops: each SQL statement, each Redis call, the provider request and the
    // durable publish are spans of the same trace.
    const isSql = (s: CollectedSpan) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';
    const isRedis = (s: CollectedSpan) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis';
    // The HTTP request itself (the SDK adds a span of its own around it).
    const isProviderCall = (s: CollectedSpan) =>
      s.serviceName === 'ai-router' && s.kind === OtlpSpanKind.CLIENT && s.name === 'POST' && String(s.attributes['url.full'] ?? '').endsWith('/v1/messages');
    const isDurablePublish = (s: CollectedSpan) => s.kind === OtlpSpanKind.PRODUCER && s.name === 'publish run.requested.v1';
    const below = [isSql, isRedis, isProviderCall, isDurablePublish];
    const complete = (all: CollectedSpan[]) =>
      services.every((s) => all.some((span) => span.traceId === traceId && span.serviceName === s)) &&
      below.every((kind) => all.some((span) => span.traceId === traceId && kind(span))) &&
      orphans(all).length === 1;
    const spans = await collector.waitForSpans(complete, 15_000).catch(() => collector.spans());
    const inTrace = spans.filter((s) => s.traceId === traceId);
    // The five on the path, plus analytics when its consumer has stored the run.finished fact.
    const seen = new Set(inTrace.map((s) => s.serviceName));
    expect(services.filter((s) => !seen.has(s))).toEqual([]);
    expect([...seen].filter((s) => !services.includes(s) && s !== 'analytics')).toEqual([]);
    expect(orphans(spans)).toEqual([expect.stringMatching(/^HTTP POST/)]);
    expect(inTrace.some((s) => s.name === 'consume run.requested.v1' && s.serviceName === 'orchestrator')).toBe(true);
    const sqlBy = new Set(inTrace.filter(isSql).map((s) => s.serviceName));
    expect(['gateway', 'orchestrator'].filter((s) => !sqlBy.has(s))).toEqual([]);
    expect(inTrace.filter(isSql).every((s) => typeof s.attributes['db.statement'] === 'string' || typeof s.attributes['db.query.text'] === 'string')).toBe(
      true,
    );
    expect(inTrace.some(isRedis)).toBe(true);
    expect(inTrace.filter(isProviderCall)).toHaveLength(2);
    // The consumer's span hangs under the publish, not beside it.
    const publish = inTrace.find(isDurablePublish)!;
    expect(inTrace.find((s) => s.name === 'consume run.requested.v1')?.parentSpanId).toBe(publish.spanId);

    // Each service's /metrics counted its hop.
    const metric = async (service: string) => (await fetch(`${platform.urls[service as 'gateway']}/metrics`)).text();
    expect(await metric('gateway')).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/api\/apps\/:appId\/messages"[^}]*status_code="202"[^}]*\} [1-9]/,
    );
    expect(await metric('orchestrator')).toMatch(
      /nats_handler_duration_seconds_count\{[^}]*subject="orchestrator\.message\.post\.v1",outcome="ok"[^}]*\} [1-9]/,
    );
    expect(await metric('ai-router')).toMatch(/nats_handler_duration_seconds_count\{[^}]*subject="ai\.completion\.create\.v1",outcome="ok"[^}]*\} [1-9]/);
    expect(await metric('tool-runner')).toMatch(/nats_handler_duration_seconds_count\{[^}]*subject="tool\.call\.execute\.v1",outcome="ok"[^}]*\} [1-9]/);
    expect(await metric('git-service')).toMatch(/nats_handler_duration_seconds_count\{[^}]*subject="git\.repo\.commit\.v1",outcome="ok"[^}]*\} [1-9]/);
    expect(await metric('orchestrator')).toMatch(/nats_request_duration_seconds_bucket\{[^}]*subject="ai\.completion\.create\.v1"/);

    // The finished run reached analytics as a fact for this team (JetStream EVENTS → analytics).
    const rpc = new NatsRpcClient(nc, createServiceMetrics('first-flow-test'));
    let stored = 0;
    for (let i = 0; i < 100 && stored === 0; i++) {
      stored = Number((await rpc.send(Rpc.analyticsEventCount, { type: Events.runFinished.subject, teamId })).count);
      if (stored === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored).toBe(1);
  });

  it('answers the seeds health endpoints for the whole platform', async () => {
    const detailed = await fetch(`${gateway}/health/detailed`);
    expect(detailed.status).toBe(200);
    const report = await jsonBody(detailed);
    for (const dep of ['postgres', 'redis', 'nats', 'orchestrator', 'ai-router', 'tool-runner', 'git-service', 'analytics', 'backup']) {
      expect(report.checks[dep]).toMatchObject({ status: 'up', latencyMs: expect.any(Number) });
    }
    expect((await fetch(`${gateway}/health`)).status).toBe(200);
    for (const url of Object.values(platform.urls)) {
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/process_resident_memory_bytes\{service="/);
    }
    const status = runCli(['status', '--json'], stack);
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout).services).toHaveLength(7);
  });

  it('keeps one team out of another team’s apps and runs', async () => {
    const app = await jsonBody(await api('/api/apps', { method: 'POST', body: JSON.stringify({ name: 'Private' }) }));
    const otherKey = createApiKey(stack, 'first-flow-other');
    const asOther = await api(`/api/apps/${app.id}`, { key: otherKey });
    const missing = await api('/api/apps/7d0b5c7e-7a3e-4c1e-9f55-8d1c2b3a4f5e', { key: otherKey });
    expect(asOther.status).toBe(404);
    expect(missing.status).toBe(404);
    const [a, b] = [await jsonBody(asOther), await jsonBody(missing)];
    expect(a.code).toBe('APP_NOT_FOUND');
    expect(b.code).toBe('APP_NOT_FOUND');
    expect((await api(`/api/apps/${app.id}/messages`, { key: otherKey, method: 'POST', body: JSON.stringify({ content: 'hi' }) })).status).toBe(404);
    const list = await jsonBody(await api('/api/apps', { key: otherKey }));
    expect(list.data).toEqual([]);
    const viewerKey = createApiKey(stack, 'first-flow', 'viewer');
    expect((await api('/api/apps', { key: viewerKey, method: 'POST', body: JSON.stringify({ name: 'nope' }) })).status).toBe(403);
    expect((await api(`/api/apps/${app.id}`, { key: viewerKey })).status).toBe(200);
  });

  it('answers bad input with a code and never a stack trace', async () => {
    const cases: Array<[string, RequestInit & { key?: string }, number, string]> = [
      ['/api/apps', { key: '' }, 401, 'UNAUTHENTICATED'],
      ['/api/apps', { key: 'osk_aaaaaaaaaaaa_' + 'a'.repeat(43) }, 401, 'UNAUTHENTICATED'],
      ['/api/apps', { method: 'POST', body: '{not json' }, 400, 'VALIDATION_FAILED'],
      ['/api/apps', { method: 'POST', body: JSON.stringify({ name: '' }) }, 400, 'VALIDATION_FAILED'],
      ['/api/apps', { method: 'POST', body: JSON.stringify({ name: 'x', extra: 1 }) }, 400, 'VALIDATION_FAILED'],
      ['/api/apps', { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['/api/apps/not-a-uuid', {}, 404, 'APP_NOT_FOUND'],
      ['/api/runs/00000000-0000-0000-0000-000000000000', {}, 404, 'RUN_NOT_FOUND'],
      ['/api/nowhere', {}, 404, 'ROUTE_NOT_FOUND'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await api(path, init);
      const body = await jsonBody(res);
      expect({ path, status: res.status, code: body.code }).toEqual({ path, status, code });
      expect(typeof body.correlationId).toBe('string');
      expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+/);
    }
    const app = await jsonBody(await api('/api/apps', { method: 'POST', body: JSON.stringify({ name: 'Empty msg' }) }));
    const empty = await api(`/api/apps/${app.id}/messages`, { method: 'POST', body: JSON.stringify({ content: '   ' }) });
    expect(empty.status).toBe(400);
    expect((await jsonBody(empty)).code).toBe('VALIDATION_FAILED');
  });

  it('replies to a malformed or unknown NATS message with a code and keeps serving', async () => {
    const garbage = await nc.request('orchestrator.app.get.v1', new Uint8Array([0xff, 0xff, 0xff, 0x0f]), { timeout: 5000 });
    expect(garbage.headers?.get('x-error-code')).toBe('MESSAGE_MALFORMED');
    const unknown = await nc.request('git.repo.explode.v1', new Uint8Array(), { timeout: 5000 });
    expect(unknown.headers?.get('x-error-code')).toBe('SUBJECT_UNKNOWN');
    const future = await nc.request('tool.call.execute.v9', new Uint8Array(), { timeout: 5000 });
    expect(future.headers?.get('x-error-code')).toBe('SUBJECT_UNKNOWN');
    // Still serving: the same services answer a real request afterwards.
    expect((await fetch(`${gateway}/health/detailed`)).status).toBe(200);
    expect((await api('/api/apps')).status).toBe(200);
  });
});

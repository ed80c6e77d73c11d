import { gunzipSync } from 'node:zlib';
import { runCli } from '../support/cli';
import { startGatewayHarness, type ApiInit, type ApiResponse, type GatewayHarness } from '../support/gateway-harness';

// `pg` ships no types; the little used here is typed by hand.
const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

// The public API end to end against the real services: every JSON response is also checked
// against the served OpenAPI document (the contract test).
jest.setTimeout(60_000);

describe('gateway API', () => {
  let h: GatewayHarness;
  let owner: { key: string; teamId: string };
  const problems: string[] = [];

  async function call(path: string, init: ApiInit = {}): Promise<ApiResponse> {
    const res = await h.api(path, init);
    problems.push(...h.contract.check(init.method ?? 'GET', path, res));
    return res;
  }

  async function waitForRun(runId: string): Promise<ApiResponse> {
    for (let i = 0; i < 300; i++) {
      const run = await call(`/api/runs/${runId}`);
      if (['completed', 'failed', 'cancelled'].includes(run.body.status)) return run;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`run ${runId} did not finish`);
  }

  async function readSse(path: string, headers: Record<string, string> = {}): Promise<Array<{ id?: string; event?: string; data?: string }>> {
    const res = await fetch(`${h.gateway}${path}`, { headers: { 'x-api-key': owner.key, ...headers }, signal: AbortSignal.timeout(30_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text(); // ends when the server ends the stream (a final status)
    return text
      .split('\n\n')
      .filter((block) => block.trim() && !block.startsWith(':') && !block.startsWith('retry:'))
      .map((block) => Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()])));
  }

  beforeAll(async () => {
    h = await startGatewayHarness({
      name: 'gateway-api',
      redisDb: 3,
      env: { GATEWAY_CORS_ORIGINS: 'https://app.example.com', GATEWAY_RATE_LIMIT_IP_MAX: '100000', GATEWAY_RATE_LIMIT_KEY_MAX: '200000' },
    });
    owner = h.key('gw-api', 'owner');
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('serves an OpenAPI 3.1 document generated from the routes, and its UI', async () => {
    const doc = h.contract.document;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/apps',
        '/api/apps/{appId}',
        '/api/apps/{appId}/messages',
        '/api/runs/{runId}/events',
        '/api/apps/{appId}/versions/{sha}/restore',
        '/api/keys/{keyId}/rotate',
        '/api/audit',
      ]),
    );
    expect(doc.paths['/api/apps'].post.requestBody.content['application/json'].schema.properties.name).toMatchObject({ type: 'string', maxLength: 200 });
    const ui = await fetch(`${h.gateway}/api/documentation`, { redirect: 'follow' });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });

  it('sets security headers, CORS for the configured origin only, rate-limit headers and compression', async () => {
    const res = await call('/api/apps');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('ratelimit-limit')).toBe('100000');
    expect(Number(res.headers.get('ratelimit-remaining'))).toBeGreaterThan(0);
    expect(res.headers.get('x-correlation-id')).toBeTruthy();

    const allowed = await fetch(`${h.gateway}/api/apps`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,content-type' },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const denied = await fetch(`${h.gateway}/api/apps`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    // A large JSON answer is compressed for a client that asks (node's http, which does not auto-decompress).
    const http = await import('node:http');
    const raw = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      const req = http.get(`${h.gateway}/api/documentation/json`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ encoding: r.headers['content-encoding'], body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
    });
    expect(raw.encoding).toBe('gzip');
    expect(JSON.parse(gunzipSync(raw.body).toString('utf8')).openapi).toBe('3.1.0');
  });

  it('creates, lists with a cursor, reads, updates and deletes apps', async () => {
    const names = ['Alpha', 'Beta', 'Gamma'];
    const ids: string[] = [];
    for (const name of names) {
      const created = await call('/api/apps', { method: 'POST', body: { name, template: 'empty' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name, template: 'empty' });
      ids.push(created.body.id);
    }
    const first = await call('/api/apps?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(`/api/apps?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    const seen = [...first.body.data, ...second.body.data].map((a: { id: string }) => a.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));

    expect((await call(`/api/apps/${ids[0]}`)).body.name).toBe('Alpha');
    const updated = await call(`/api/apps/${ids[0]}`, { method: 'PATCH', body: { name: 'Alpha 2', maxIterations: 7 } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: ids[0], name: 'Alpha 2', maxIterations: 7 });
    expect((await call(`/api/apps/${ids[0]}`, { method: 'PATCH', body: {} })).status).toBe(400);

    const deleted = await call(`/api/apps/${ids[2]}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: ids[2], deleted: true });
    const gone = await call(`/api/apps/${ids[2]}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('APP_NOT_FOUND');
  });

  it('posts a message (202), streams the run over SSE with Last-Event-ID resume, and lists messages and runs', async () => {
    h.anthropic.reset();
    h.anthropic.script(
      {
        content: [
          { type: 'text', text: 'Writing it.' },
          { type: 'tool_use', name: 'write_file', input: { path: 'index.html', content: '<h1>Hi</h1>\n' } },
        ],
      },
      { content: [{ type: 'text', text: 'Done.' }] },
    );
    const app = (await call('/api/apps', { method: 'POST', body: { name: 'Chatty', template: 'empty' } })).body;
    const posted = await call(`/api/apps/${app.id}/messages`, { method: 'POST', body: { content: 'Add a page' } });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ runId: expect.any(String), eventsUrl: `/api/runs/${posted.body.runId}/events` });

    const events = await readSse(posted.body.eventsUrl);
    const seqs = events.filter((e) => e.id).map((e) => Number(e.id));
    expect(seqs.length).toBeGreaterThan(2);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    const last = JSON.parse(events.at(-1)!.data!);
    expect(last.status).toBe('completed');

    // Resume: only what came after the given id, the same events, and the stream still ends.
    const resumed = await readSse(posted.body.eventsUrl, { 'last-event-id': String(seqs[1]) });
    expect(resumed.filter((e) => e.id).map((e) => Number(e.id))).toEqual(seqs.slice(2));

    const run = await waitForRun(posted.body.runId);
    expect(run.body).toMatchObject({ status: 'completed', appId: app.id });
    const runs = await call(`/api/apps/${app.id}/runs`);
    expect(runs.body.data.map((r: { id: string }) => r.id)).toContain(posted.body.runId);
    const messages = await call(`/api/apps/${app.id}/messages`);
    expect(messages.body.data.map((m: { content: string }) => m.content)).toContain('Add a page');
    // Cancelling a finished run answers the run as it is.
    const cancel = await call(`/api/runs/${posted.body.runId}/cancel`, { method: 'POST', body: {} });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('completed');

    // Versions: the turn's commit, its diff, a file at that version, and a restore of the first version.
    const versions = await call(`/api/apps/${app.id}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.data[0].sha).toBe(run.body.commitSha);
    const diff = await call(`/api/apps/${app.id}/versions/${run.body.commitSha}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body.files).toEqual([expect.objectContaining({ path: 'index.html', change: 'added', patch: expect.stringContaining('<h1>Hi</h1>') })]);
    const file = await call(`/api/apps/${app.id}/files/content?path=index.html&ref=${run.body.commitSha}`);
    expect(file.body).toMatchObject({ path: 'index.html', encoding: 'utf8', content: '<h1>Hi</h1>\n' });
    const firstVersion = versions.body.data.at(-1).sha;
    const restored = await call(`/api/apps/${app.id}/versions/${firstVersion}/restore`, { method: 'POST', body: {} });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ created: true, restoredFrom: firstVersion });
    expect((await call(`/api/apps/${app.id}/files/content?path=index.html`)).body.code).toBe('GIT_PATH_NOT_FOUND');
    // The tree at the agent's version has its file; the latest (restored) version has not.
    const atRun = await call(`/api/apps/${app.id}/files?ref=${run.body.commitSha}`);
    expect(atRun.status).toBe(200);
    expect(atRun.body).toMatchObject({ appId: app.id, ref: expect.stringMatching(/^[0-9a-f]{40}$/), truncated: false });
    expect(atRun.body.entries).toContainEqual({ path: 'index.html', type: 'file', sizeBytes: 12 });
    const latest = await call(`/api/apps/${app.id}/files`);
    expect(latest.status).toBe(200);
    expect(latest.body.entries.map((e: { path: string }) => e.path)).not.toContain('index.html');
    expect((await call(`/api/apps/${app.id}/files?ref=0000000`)).body.code).toBe('GIT_REVISION_NOT_FOUND');
  });

  it('lets owners and admins manage keys within their role, and refuses members and viewers', async () => {
    const admin = h.key('gw-api', 'admin');
    const member = h.key('gw-api', 'member');
    const viewer = h.key('gw-api', 'viewer');
    expect((await call('/api/keys', { key: member.key })).status).toBe(403);
    expect((await call('/api/keys', { key: viewer.key })).status).toBe(403);
    expect((await call('/api/apps', { key: viewer.key, method: 'POST', body: { name: 'nope' } })).status).toBe(403);
    expect((await call('/api/keys', { key: admin.key, method: 'POST', body: { name: 'boss', role: 'owner' } })).status).toBe(403);

    const created = await call('/api/keys', { key: admin.key, method: 'POST', body: { name: 'reader', role: 'viewer', scopes: ['apps:read'] } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^osk_/);
    const listed = await call('/api/keys', { key: admin.key });
    const row = listed.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(row).toMatchObject({ role: 'viewer', scopes: ['apps:read'], status: 'active' });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    // The scoped key reads apps but not runs.
    expect((await call('/api/apps', { key: created.body.key })).status).toBe(200);
    const noScope = await call('/api/apps/00000000-0000-4000-8000-000000000000/runs', { key: created.body.key });
    expect(noScope.status).toBe(403);

    const rotated = await call(`/api/keys/${created.body.id}/rotate`, { key: admin.key, method: 'POST', body: { graceSeconds: 60 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.old.status).toBe('rotating');
    expect((await call('/api/apps', { key: created.body.key })).status).toBe(200);
    expect((await call('/api/apps', { key: rotated.body.created.key })).status).toBe(200);

    const revoked = await call(`/api/keys/${rotated.body.created.id}`, { key: admin.key, method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect((await call('/api/apps', { key: rotated.body.created.key })).status).toBe(401);
    expect((await call(`/api/keys/${rotated.body.created.id}`, { key: admin.key, method: 'DELETE' })).body.code).toBe('KEY_NOT_FOUND');
  });

  it('manages keys from the CLI: create with scopes and expiry, list, rotate with grace, revoke', async () => {
    const created = runCli(
      ['keys', 'create', '--team', 'gw-cli', '--role', 'member', '--scopes', 'apps:read,apps:write', '--expires', '30d', '--user', 'dev@example.com', '--json'],
      h,
    );
    expect(created.stderr).toBe('');
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ role: 'member', scopes: ['apps:read', 'apps:write'], expiresAt: expect.any(String) });
    expect((await call('/api/apps', { key: key.key })).status).toBe(200);

    const bad = runCli(['keys', 'create', '--team', 'gw-cli', '--role', 'member', '--scopes', 'everything'], h);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/VALIDATION_FAILED: unknown scope everything/);

    const listed = JSON.parse(runCli(['keys', 'list', '--team', 'gw-cli', '--json'], h).stdout);
    expect(listed.keys.map((k: { keyId: string }) => k.keyId)).toContain(key.keyId);

    const rotated = JSON.parse(runCli(['keys', 'rotate', key.keyId, '--grace', '0', '--json'], h).stdout);
    expect(rotated.oldKeyId).toBe(key.keyId);
    expect((await call('/api/apps', { key: key.key })).status).toBe(401);
    expect((await call('/api/apps', { key: rotated.key })).status).toBe(200);

    const revoked = runCli(['keys', 'revoke', rotated.keyId], h);
    expect(revoked.stdout).toMatch(/^revoked /);
    expect((await call('/api/apps', { key: rotated.key })).status).toBe(401);
  });

  it('audits every mutation and authentication failure, queryable with filters and a cursor, append-only in Postgres', async () => {
    const team = h.key('gw-audit', 'owner');
    const viewer = h.key('gw-audit', 'viewer');
    await call('/api/apps', { key: team.key, method: 'POST', body: { name: 'Audited', template: 'empty' } });
    await call('/api/apps', { key: viewer.key, method: 'POST', body: { name: 'Refused' } });
    const forged = `${team.key.slice(0, -4)}AAAA`;
    expect((await call('/api/apps', { key: forged })).status).toBe(401);

    // Audit rows are written after each response: wait until all three (the CLI's key creations
    // are in the log too, so count the actions, not the rows).
    let entries: Array<Record<string, unknown>> = [];
    const complete = () => ['ok', 'FORBIDDEN', 'UNAUTHENTICATED'].every((result) => entries.some((e) => e.result === result && e.action !== 'cli keys create'));
    for (let i = 0; i < 150 && !complete(); i++) {
      entries = (await call('/api/audit?limit=200', { key: team.key })).body.data;
      if (!complete()) await new Promise((r) => setTimeout(r, 100));
    }
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'POST /api/apps', result: 'ok', status: 201, keyPrefix: team.key.split('_')[1], target: null }),
        expect.objectContaining({ action: 'POST /api/apps', result: 'FORBIDDEN', status: 403, keyPrefix: viewer.key.split('_')[1] }),
        expect.objectContaining({ action: 'auth.failed', result: 'UNAUTHENTICATED', status: 401, actor: null, keyPrefix: team.key.split('_')[1] }),
      ]),
    );
    expect(entries.every((e) => typeof e.correlationId === 'string' && typeof e.ip === 'string')).toBe(true);

    const failed = await call('/api/audit?result=UNAUTHENTICATED', { key: team.key });
    expect(failed.body.data.every((e: { result: string }) => e.result === 'UNAUTHENTICATED')).toBe(true);
    const page1 = await call('/api/audit?limit=1', { key: team.key });
    const page2 = await call(`/api/audit?limit=1&cursor=${page1.body.nextCursor}`, { key: team.key });
    expect(page2.body.data[0].id).not.toBe(page1.body.data[0].id);
    expect(page2.body.data[0].occurredAt <= page1.body.data[0].occurredAt).toBe(true);
    expect((await call('/api/audit?cursor=garbage', { key: team.key })).body.code).toBe('VALIDATION_FAILED');
    expect((await call('/api/audit', { key: viewer.key })).status).toBe(403);

    const client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
    try {
      await expect(client.query(`UPDATE gateway.audit_log SET result = 'ok'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM gateway.audit_log`)).rejects.toThrow(/append-only/);
      await expect(client.query(`TRUNCATE gateway.audit_log`)).rejects.toThrow(/append-only/);
      // Published for analytics too: the events table has the audit facts.
      let stored = 0;
      for (let i = 0; i < 300 && stored === 0; i++) {
        const rows = await client.query(`SELECT count(*)::int AS n FROM analytics.events WHERE type = 'events.audit.recorded.v1' AND team_id = $1`, [
          team.teamId,
        ]);
        stored = rows.rows[0]!.n as number;
        if (stored === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(stored).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it("answers admins with the platform status and the team's tool stats from analytics", async () => {
    const status = await call('/api/admin/status');
    expect(status.status).toBe(200);
    expect(status.body.checks).toHaveProperty('postgres');
    expect((await call('/api/admin/status', { key: h.key('gw-api', 'member').key })).status).toBe(403);
    // The run above executed write_file once; analytics ingests the fact asynchronously.
    let tools: Array<{ tool: string; outcome: string; count: number; avgMs: number }> = [];
    for (let i = 0; i < 100 && !tools.some((t) => t.tool === 'write_file'); i++) {
      const stats = await call('/api/admin/tools/stats?days=1');
      expect(stats.status).toBe(200);
      tools = stats.body.tools;
      if (!tools.some((t) => t.tool === 'write_file')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(tools).toContainEqual(expect.objectContaining({ tool: 'write_file', outcome: 'ok', count: 1, avgMs: expect.any(Number) }));
    // Another team sees none of it.
    const other = await call('/api/admin/tools/stats', { key: h.key('gw-other-admin', 'owner').key });
    expect(other.body.tools).toEqual([]);
    expect((await call('/api/admin/tools/stats?days=365')).body.code).toBe('VALIDATION_FAILED');
  });
});

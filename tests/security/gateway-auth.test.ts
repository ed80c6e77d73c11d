import { launchPlatform, runAllMigrations, type RunningPlatform } from '@overskill/testing';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { startGatewayHarness, type ApiInit, type GatewayHarness } from '../support/gateway-harness';
import { integrationStack, REPO_ROOT } from '../support/integration-env';

const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

jest.setTimeout(90_000);

const MISSING = '7d0b5c7e-7a3e-4c1e-9f55-8d1c2b3a4f5e';

// Authentication bypass attempts, the BOLA matrix, hostile bodies and headers, rate limits
// shared by replicas, and revocation seen at once by another replica.
describe('gateway security', () => {
  let h: GatewayHarness;
  let replica: RunningPlatform;
  let replicaUrl: string;
  const a = { key: '', teamId: '', appId: '', runId: '', keyId: '', sha: '' };
  let b: { key: string; teamId: string };

  async function sql(query: string, values: unknown[] = []) {
    const client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
    try {
      return (await client.query(query, values)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    // A long key cache: revocation must still reach the other replica at once.
    const env = { GATEWAY_RATE_LIMIT_IP_MAX: '100000', GATEWAY_RATE_LIMIT_KEY_MAX: '100000', GATEWAY_KEY_CACHE_TTL_MS: '120000' };
    h = await startGatewayHarness({
      name: 'gateway-security',
      redisDb: 4,
      services: ['gateway', 'orchestrator', 'ai-router', 'tool-runner', 'git-service'],
      env,
    });
    const stack = integrationStack();
    replica = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      redisUrl: h.redisUrl,
      workspacesDir: join(h.dir, 'workspaces'),
      backupDir: join(h.dir, 'backups'),
      logDir: join(h.dir, 'logs-replica'),
      services: ['gateway'],
      env: { LOG_LEVEL: 'warn', ...env },
    });
    replicaUrl = replica.urls.gateway!;

    const owner = h.key('bola-a', 'owner');
    Object.assign(a, owner);
    b = h.key('bola-b', 'owner');
    a.appId = (await h.api('/api/apps', { key: a.key, method: 'POST', body: { name: 'Team A secret app', template: 'empty' } })).body.id;
    h.anthropic.script({ content: [{ type: 'text', text: 'Nothing to do.' }] });
    a.runId = (await h.api(`/api/apps/${a.appId}/messages`, { key: a.key, method: 'POST', body: { content: 'hello' } })).body.runId;
    a.keyId = (await h.api('/api/keys', { key: a.key, method: 'POST', body: { name: 'a-member', role: 'member' } })).body.id;
    for (let i = 0; i < 100 && !a.sha; i++) {
      a.sha = (await h.api(`/api/apps/${a.appId}/versions`, { key: a.key })).body?.data?.[0]?.sha ?? '';
      if (!a.sha) await new Promise((r) => setTimeout(r, 100));
    }
    expect(a).toMatchObject({ appId: expect.any(String), runId: expect.any(String), keyId: expect.any(String), sha: expect.stringMatching(/^[0-9a-f]{40}$/) });
  }, 180_000);

  afterAll(async () => {
    await replica?.stop();
    await h?.stop();
  });

  describe('authentication bypass attempts', () => {
    const expectRefused = async (headers: Record<string, string>, path = '/api/apps') => {
      const res = await h.api(path, { key: null, headers });
      expect({ headers, status: res.status, code: res.body?.code }).toEqual({ headers, status: 401, code: 'UNAUTHENTICATED' });
      expect(res.body.message).toBe('A valid API key is required (X-API-Key or Authorization: Bearer)');
      expect(res.text).not.toMatch(/at .*\.js:\d+|stack/i);
    };

    it('refuses missing, empty, malformed, wrong-scheme, tampered and look-alike keys with one answer', async () => {
      const tampered = `${a.key.slice(0, -1)}${a.key.endsWith('x') ? 'y' : 'x'}`;
      const cases: Array<Record<string, string>> = [
        {},
        { 'x-api-key': '' },
        { 'x-api-key': 'osk_short' },
        { 'x-api-key': tampered },
        { 'x-api-key': a.key.toUpperCase() },
        { 'x-api-key': `${a.key} ` + 'x' },
        { 'x-api-key': `${a.key.split('_').slice(0, 2).join('_')}_` },
        { authorization: `Basic ${Buffer.from(`user:${a.key}`).toString('base64')}` },
        { authorization: 'Bearer' },
        { authorization: `Bearer ${tampered}` },
        { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoib3duZXIifQ.' },
        // An invalid X-API-Key is not rescued by a valid bearer token.
        { 'x-api-key': tampered, authorization: `Bearer ${a.key}` },
      ];
      for (const headers of cases) await expectRefused(headers);
      // A key in the query string is not a credential.
      const query = await h.api(`/api/apps?api_key=${a.key}`, { key: null });
      expect(query.status).toBe(401);
    });

    it('refuses revoked, expired and rotated-out keys', async () => {
      const revoked = JSON.parse(runCli(['keys', 'create', '--team', 'bola-a', '--role', 'viewer', '--json'], h).stdout);
      expect((await h.api('/api/apps', { key: revoked.key })).status).toBe(200);
      runCli(['keys', 'revoke', revoked.keyId], h);
      await expectRefused({ 'x-api-key': revoked.key });

      const expiring = JSON.parse(runCli(['keys', 'create', '--team', 'bola-a', '--role', 'viewer', '--expires', '1d', '--json'], h).stdout);
      // Expiry moved into the past before the key is ever used (so no replica has it cached).
      await sql(`UPDATE gateway.api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.keyId]);
      await expectRefused({ 'x-api-key': expiring.key });

      const rotating = JSON.parse(runCli(['keys', 'create', '--team', 'bola-a', '--role', 'viewer', '--json'], h).stdout);
      expect((await h.api('/api/apps', { key: rotating.key })).status).toBe(200);
      const rotated = JSON.parse(runCli(['keys', 'rotate', rotating.keyId, '--grace', '0', '--json'], h).stdout);
      await expectRefused({ 'x-api-key': rotating.key });
      expect((await h.api('/api/apps', { key: rotated.key })).status).toBe(200);
    });

    it('revocation through one replica is refused by another replica that had the key cached', async () => {
      const k = (await h.api('/api/keys', { key: a.key, method: 'POST', body: { name: 'cached', role: 'viewer' } })).body;
      // Both replicas authenticate it once (and cache it for two minutes).
      expect((await h.api('/api/apps', { key: k.key })).status).toBe(200);
      expect((await h.api('/api/apps', { key: k.key, base: replicaUrl })).status).toBe(200);
      expect((await h.api(`/api/keys/${k.id}`, { key: a.key, method: 'DELETE' })).status).toBe(200);
      expect((await h.api('/api/apps', { key: k.key, base: replicaUrl })).status).toBe(401);
      expect((await h.api('/api/apps', { key: k.key })).status).toBe(401);
    });

    it("answers a team's list with every write made through either replica, and never with another team's cached list", async () => {
      const owner = h.key('list-replicas', 'owner');
      const other = h.key('list-replicas-other', 'owner');
      const names = async (base: string | undefined, key = owner.key) => {
        const res = await h.api('/api/apps?limit=100', { key, ...(base ? { base } : {}) });
        expect(res.status).toBe(200);
        return (res.body.data as Array<{ name: string }>).map((app) => app.name).sort();
      };
      const hits = async () => {
        const text = await (await fetch(`${replicaUrl}/metrics`)).text();
        return Number(/^gateway_app_list_cache_total\{result="hit"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
      };
      const create = async (name: string, base?: string) =>
        (await h.api('/api/apps', { key: owner.key, method: 'POST', body: { name, template: 'empty' }, ...(base ? { base } : {}) })).body.id as string;

      await create('one');
      // Both replicas hold the page now; the replica answers the same list again from its copy.
      expect(await names(undefined)).toEqual(['one']);
      expect(await names(replicaUrl)).toEqual(['one']);
      const before = await hits();
      expect(await names(replicaUrl)).toEqual(['one']);
      expect(await hits()).toBe(before + 1);
      // Another team never gets this team's page.
      expect(await names(replicaUrl, other.key)).toEqual([]);

      const two = await create('two');
      expect(await names(replicaUrl)).toEqual(['one', 'two']);
      expect((await h.api(`/api/apps/${two}`, { key: owner.key, method: 'PATCH', body: { name: 'two renamed' }, base: replicaUrl })).status).toBe(200);
      expect(await names(undefined)).toEqual(['one', 'two renamed']);
      expect((await h.api(`/api/apps/${two}`, { key: owner.key, method: 'DELETE' })).status).toBe(200);
      expect(await names(replicaUrl)).toEqual(['one']);
    });

    it('records every authentication failure in the audit log, attributed to the team whose prefix was tried', async () => {
      // Counted by the refused requests' own correlation ids: audit rows of earlier tests land in the background too.
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await h.api('/api/apps', { key: null, headers: { 'x-api-key': `${a.key.slice(0, -2)}zz` } });
        expect(res.status).toBe(401);
        ids.push(res.headers.get('x-correlation-id') ?? '');
      }
      expect(new Set(ids).size).toBe(3);
      const count = async () =>
        (
          await sql(`SELECT count(*)::int AS n FROM gateway.audit_log WHERE action = 'auth.failed' AND team_id = $1 AND correlation_id = ANY($2)`, [
            a.teamId,
            ids,
          ])
        )[0]!.n as number;
      let n = 0;
      for (let i = 0; i < 300 && n < 3; i++) {
        n = await count();
        if (n < 3) await new Promise((r) => setTimeout(r, 50));
      }
      expect(n).toBe(3);
    });
  });

  describe('BOLA: another team’s ids are answered exactly like ids that do not exist', () => {
    const bodies: Record<string, unknown> = {
      updateApp: { name: 'pwned' },
      postMessage: { content: 'pwned' },
      cancelRun: {},
      restoreVersion: {},
      rotateKey: {},
    };

    it('tries every route with an id of team A as team B', async () => {
      // Operator-only routes are platform-wide (backups): they hold no team's ids.
      const ops = h.contract.operations().filter((o) => o.template.includes('{') && !o.operation['x-operator-only']);
      expect(ops.length).toBeGreaterThanOrEqual(15);
      for (const op of ops) {
        const fill = (ids: { appId: string; runId: string; keyId: string; sha: string }) =>
          op.template.replace('{appId}', ids.appId).replace('{runId}', ids.runId).replace('{keyId}', ids.keyId).replace('{sha}', ids.sha);
        const query = op.template.endsWith('/files/content') ? '?path=README.md' : '';
        const init: ApiInit = {
          key: b.key,
          method: op.method,
          body: bodies[String(op.operation.operationId)] ?? (op.method === 'GET' || op.method === 'DELETE' ? undefined : {}),
        };
        const foreign = await h.api(fill(a) + query, init);
        const missing = await h.api(fill({ appId: MISSING, runId: MISSING, keyId: MISSING, sha: 'abcdef1' }) + query, init);
        const norm = (body: { code: string; message: string }) => ({
          code: body?.code,
          message: String(body?.message).replaceAll(a.appId, 'ID').replaceAll(a.runId, 'ID').replaceAll(a.keyId, 'ID').replaceAll(MISSING, 'ID'),
        });
        expect({ route: `${op.method} ${op.template}`, status: foreign.status, ...norm(foreign.body) }).toEqual({
          route: `${op.method} ${op.template}`,
          status: missing.status,
          ...norm(missing.body),
        });
        expect({ route: `${op.method} ${op.template}`, status: foreign.status }).toEqual({ route: `${op.method} ${op.template}`, status: 404 });
      }
      // Nothing of team A changed, and nothing of it shows in team B's lists.
      const app = await h.api(`/api/apps/${a.appId}`, { key: a.key });
      expect(app.body.name).toBe('Team A secret app');
      expect((await h.api('/api/keys', { key: a.key })).body.data.find((k: { id: string }) => k.id === a.keyId).status).toBe('active');
      const bApps = await h.api('/api/apps', { key: b.key });
      expect(JSON.stringify(bApps.body)).not.toContain(a.appId);
      const bKeys = await h.api('/api/keys', { key: b.key });
      expect(JSON.stringify(bKeys.body)).not.toContain(a.keyId);
      // Team B's audit log has its own failed attempts on A's ids, never A's own records.
      const bAudit = await h.api('/api/audit?limit=200', { key: b.key });
      expect(bAudit.body.data.length).toBeGreaterThan(0);
      expect(JSON.stringify(bAudit.body)).not.toContain(a.key.split('_')[1]);
    });
  });

  describe('hostile bodies', () => {
    const post = (init: ApiInit) => h.api('/api/apps', { key: a.key, method: 'POST', ...init });
    const expectError = async (init: ApiInit, status: number, code: string) => {
      const res = await post(init);
      expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
      expect(res.body).toEqual({ code, message: expect.any(String), correlationId: expect.any(String) });
      expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
    };

    it('refuses oversized, malformed, deep, polluting and mistyped bodies with clear codes', async () => {
      await expectError(
        { rawBody: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      );
      await expectError({ rawBody: '{"name": "x",', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED');
      await expectError({ rawBody: `${'['.repeat(5000)}${']'.repeat(5000)}`, headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED');
      let deep: unknown = { name: 'deep' };
      for (let i = 0; i < 100; i++) deep = { name: 'x', nested: deep };
      await expectError({ body: deep }, 400, 'VALIDATION_FAILED');
      await expectError({ rawBody: '{"name":"x","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED');
      await expectError(
        { rawBody: '{"name":"x","constructor":{"prototype":{"admin":true}}}', headers: { 'content-type': 'application/json' } },
        400,
        'VALIDATION_FAILED',
      );
      await expectError({ rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectError({ body: [{ name: 'x' }] }, 400, 'VALIDATION_FAILED');
      await expectError({ body: { name: 'x', role: 'owner' } }, 400, 'VALIDATION_FAILED');
      await expectError({ body: { name: 'x'.repeat(201) } }, 400, 'VALIDATION_FAILED');
      await expectError({ body: { name: 42 } }, 400, 'VALIDATION_FAILED');
      await expectError({ body: { name: 'x', template: '../../etc' } }, 400, 'VALIDATION_FAILED');
      // An id that cannot exist is answered like a missing one.
      const nonsense = await h.api('/api/apps/not-a-uuid', { key: a.key });
      expect({ status: nonsense.status, code: nonsense.body.code }).toEqual({ status: 404, code: 'APP_NOT_FOUND' });
      const unknownQuery = await h.api('/api/apps?limit=5&admin=true', { key: a.key });
      expect(unknownQuery.status).toBe(400);
      const hugeLimit = await h.api('/api/apps?limit=1000000', { key: a.key });
      expect(hugeLimit.body.code).toBe('VALIDATION_FAILED');
      // Nothing was half-written: no app with these names.
      const names = (await h.api('/api/apps?limit=100', { key: a.key })).body.data.map((x: { name: string }) => x.name);
      expect(names).toEqual(['Team A secret app']);
    });
  });

  describe('hostile headers', () => {
    function rawRequest(lines: string[]): Promise<string> {
      const url = new URL(h.gateway);
      return new Promise((resolve, reject) => {
        const socket = netConnect(Number(url.port), url.hostname, () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
        let data = '';
        socket.on('data', (c) => (data += c.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
    }

    it('does not reflect injected headers, malformed correlation ids or a forged host', async () => {
      const raw = await rawRequest([
        'GET /api/apps HTTP/1.1',
        `Host: 127.0.0.1`,
        `X-Api-Key: ${a.key}`,
        'X-Correlation-Id: abc%0d%0aSet-Cookie:%20pwned=1',
        'Connection: close',
      ]);
      expect(raw).toMatch(/^HTTP\/1\.1 200/);
      expect(raw.toLowerCase()).not.toContain('set-cookie');
      expect(raw).not.toContain('%0d%0a');
      // A bare LF inside a header value is a malformed request, refused by the parser.
      const split = await rawRequest(['GET /api/apps HTTP/1.1', 'Host: 127.0.0.1', `X-Correlation-Id: ok\nSet-Cookie: pwned=1`, 'Connection: close']);
      expect(split).toMatch(/^HTTP\/1\.1 400/);
      expect(split.toLowerCase()).not.toContain('set-cookie: pwned');

      const script = await h.api('/api/apps', { key: a.key, headers: { 'x-correlation-id': '<script>alert(1)</script>' } });
      expect(script.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
      const huge = await h.api('/api/apps', { key: a.key, headers: { 'x-padding': 'x'.repeat(64 * 1024) } });
      expect(huge.status).toBe(431);

      const hosted = await h.api(`/api/apps/${a.appId}/messages`, {
        key: a.key,
        method: 'POST',
        body: { content: 'hi' },
        headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'javascript' },
      });
      expect(hosted.status).toBe(202);
      expect(hosted.body.eventsUrl).toMatch(/^\/api\/runs\/[0-9a-f-]{36}\/events$/);
      // Without trust proxy, X-Forwarded-For does not choose the rate-limit bucket or the audited ip.
      // The row is written after the answer, in the background: wait for it as above.
      let rows: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 300 && rows.length === 0; i++) {
        rows = await sql(`SELECT ip FROM gateway.audit_log WHERE correlation_id = $1`, [hosted.headers.get('x-correlation-id')]);
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(rows[0]?.ip).toBe('127.0.0.1');
    });

    it('answers unknown routes and methods with the error shape', async () => {
      const res = await h.api('/api/nope', { key: a.key });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ code: 'ROUTE_NOT_FOUND', message: expect.any(String), correlationId: expect.any(String) });
      const put = await h.api('/api/apps', { key: a.key, method: 'PUT', body: {} });
      expect(put.status).toBe(404);
    });
  });
});

describe('gateway rate limits shared by replicas', () => {
  let r1: RunningPlatform;
  let r2: RunningPlatform;
  let key: string;

  beforeAll(async () => {
    const stack = integrationStack();
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    // A database no other suite writes: the address 127.0.0.1's window must start empty here, and
    // suites before this one send many requests from that address.
    const redisUrl = `${stack.redisUrl.replace(/\/\d*$/, '')}/15`;
    const dir = join(stack.dataDir, `gateway-ratelimit-${process.pid}`);
    // One proxy hop, as in compose and k8s: the address the proxy appended is the client.
    const env = {
      LOG_LEVEL: 'warn',
      GATEWAY_TRUST_PROXY_HOPS: '1',
      GATEWAY_RATE_LIMIT_IP_MAX: '10',
      GATEWAY_RATE_LIMIT_IP_WINDOW_SECONDS: '300',
      GATEWAY_RATE_LIMIT_KEY_MAX: '4',
      GATEWAY_RATE_LIMIT_KEY_WINDOW_SECONDS: '300',
    };
    const common = { root: REPO_ROOT, ...stack, redisUrl, workspacesDir: join(dir, 'w'), backupDir: join(dir, 'b'), services: ['gateway'] as const, env };
    r1 = await launchPlatform({ ...common, logDir: join(dir, 'logs1') });
    r2 = await launchPlatform({ ...common, logDir: join(dir, 'logs2') });
    key = JSON.parse(runCli(['keys', 'create', '--team', 'rate-limited', '--role', 'viewer', '--json'], stack).stdout).key;
  }, 120_000);

  afterAll(async () => {
    await r1?.stop();
    await r2?.stop();
  });

  it('counts per key and per IP across replicas and answers 429 with Retry-After and RateLimit headers', async () => {
    const get = (url: string, withKey = true) => fetch(`${url}/api/keys`, { headers: withKey ? { 'x-api-key': key } : {} });
    // The key's budget (4) is spent across both replicas; the requests are 403 (viewer), but counted.
    for (const url of [r1.urls.gateway!, r2.urls.gateway!, r1.urls.gateway!, r2.urls.gateway!]) expect((await get(url)).status).toBe(403);
    const limited = await get(r1.urls.gateway!);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/retry after \d+ s/) });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-limit')).toBe('4');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-policy')).toBe('4;w=300');
    // 5 requests from this address so far; 5 more unauthenticated ones reach 10, the next is refused before auth.
    for (let i = 0; i < 5; i++) expect((await get(i % 2 ? r1.urls.gateway! : r2.urls.gateway!, false)).status).toBe(401);
    const ipLimited = await get(r2.urls.gateway!, false);
    expect(ipLimited.status).toBe(429);
    expect(ipLimited.headers.get('ratelimit-limit')).toBe('10');
    expect(Number(ipLimited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Health and metrics are not rate limited.
    expect((await fetch(`${r1.urls.gateway}/health/live`)).status).toBe(200);
  });

  it('behind a proxy, counts the address the proxy appended, whatever the client put before it', async () => {
    const spoofed = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}, 10.${i}.0.1, 203.0.113.7` });
    for (let i = 0; i < 10; i++) expect((await fetch(`${r1.urls.gateway!}/api/apps`, { headers: spoofed(i) })).status).toBe(401);
    const limited = await fetch(`${r2.urls.gateway!}/api/apps`, { headers: spoofed(99) });
    expect(limited.status).toBe(429);
    // Another client behind the same proxy has its own budget.
    expect((await fetch(`${r1.urls.gateway!}/api/apps`, { headers: { 'x-forwarded-for': '203.0.113.8' } })).status).toBe(401);
  });
});

describe('gateway behind proxies named by address', () => {
  let trusting: RunningPlatform;
  let bypassed: RunningPlatform;

  beforeAll(async () => {
    const stack = integrationStack();
    // A database of its own: the windows counted here start empty.
    const redisUrl = `${stack.redisUrl.replace(/\/\d*$/, '')}/14`;
    const dir = join(stack.dataDir, `gateway-proxies-${process.pid}`);
    const common = { root: REPO_ROOT, ...stack, redisUrl, workspacesDir: join(dir, 'w'), backupDir: join(dir, 'b'), services: ['gateway'] as const };
    const env = { LOG_LEVEL: 'warn', GATEWAY_RATE_LIMIT_IP_MAX: '50', GATEWAY_RATE_LIMIT_IP_WINDOW_SECONDS: '300' };
    // This test's client is the proxy (127.0.0.1) in one, and a stranger that reached the port in the other.
    trusting = await launchPlatform({ ...common, logDir: join(dir, 'logs1'), env: { ...env, GATEWAY_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' } });
    bypassed = await launchPlatform({ ...common, logDir: join(dir, 'logs2'), env: { ...env, GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8' } });
  }, 120_000);

  afterAll(async () => {
    await trusting?.stop();
    await bypassed?.stop();
  });

  const remaining = async (url: string, forwardedFor: string) => {
    const res = await fetch(`${url}/api/apps`, { headers: { 'x-forwarded-for': forwardedFor } });
    expect(res.status).toBe(401);
    return Number(res.headers.get('ratelimit-remaining'));
  };

  it('counts the first address from the right that is not a trusted proxy', async () => {
    const url = trusting.urls.gateway!;
    // Whatever the client puts before it, the address before the trusted hops is the bucket.
    expect(await remaining(url, '198.51.100.1, 203.0.113.50, 10.1.2.3')).toBe(49);
    expect(await remaining(url, '198.51.100.2, 203.0.113.50, 10.9.9.9')).toBe(48);
    expect(await remaining(url, '203.0.113.51')).toBe(49);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const url = bypassed.urls.gateway!;
    const first = await remaining(url, '203.0.113.60');
    expect(await remaining(url, '203.0.113.61, 10.0.0.1')).toBe(first - 1);
  });
});

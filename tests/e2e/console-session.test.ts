import Redis from 'ioredis';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startGatewayHarness, type ApiInit, type ApiResponse, type GatewayHarness } from '../support/gateway-harness';

// The web console's edge: the built SPA served by the gateway (caching, CSP, fallback that never
// shadows the API) and sign-in with an API key exchanged for an HttpOnly session cookie + CSRF.
jest.setTimeout(60_000);

describe('console: static serving and session sign-in', () => {
  let h: GatewayHarness;
  let owner: { key: string; teamId: string };
  const problems: string[] = [];

  async function call(path: string, init: ApiInit = {}): Promise<ApiResponse> {
    const res = await h.api(path, init);
    problems.push(...h.contract.check(init.method ?? 'GET', path, res));
    return res;
  }

  // Signs in with the key and returns what a browser would keep: the cookie and the CSRF token.
  async function signIn(key: string): Promise<{ cookie: string; csrf: string; res: ApiResponse }> {
    const res = await call('/api/session', { method: 'POST', key: null, body: { key } });
    expect(res.status).toBe(201);
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { cookie: setCookie.split(';')[0]!, csrf: res.body.csrfToken, res };
  }

  // The raw bytes and headers (fetch would decompress on its own).
  const rawGet = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get(`${h.gateway}${path}`, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });

  const withCookie = (cookie: string, init: ApiInit = {}): ApiInit => ({ ...init, key: null, headers: { cookie, ...init.headers } });

  async function auditRows(teamId: string, action: string): Promise<Array<Record<string, unknown>>> {
    for (let i = 0; i < 100; i++) {
      const rows = (await call(`/api/audit?limit=200&action=${encodeURIComponent(action)}`, { key: owner.key })).body.data as Array<Record<string, unknown>>;
      if (rows.length > 0) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no audit row for ${action} in team ${teamId}`);
  }

  beforeAll(async () => {
    h = await startGatewayHarness({
      name: 'console-session',
      redisDb: 9,
      services: ['gateway', 'orchestrator', 'git-service'],
      env: { GATEWAY_SESSION_TTL_SECONDS: '900' },
    });
    owner = h.key('console-session', 'owner');
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('serves index.html uncached for / and any app path, hashed assets immutable, with a CSP that allows no inline script', async () => {
    for (const path of ['/', '/apps', '/apps/5d0f4f7e-0000-4000-8000-000000000000/versions', '/admin/keys?x=1']) {
      const res = await fetch(`${h.gateway}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).not.toMatch(/unsafe-eval/);
      // Frames only from the previews' own origins (the app preview pane).
      expect(csp).toMatch(/frame-src \*\.preview\.localhost:\*(;|$)/);
      const html = await res.text();
      expect(html).toMatch(/<div id="root"><\/div>/);
      // Every script is a same-origin file; nothing inline, nothing from another host.
      expect(html).not.toMatch(/<script(?![^>]*src="\/assets\/)[^>]*>/);
      expect(html).not.toMatch(/https?:\/\//);
    }
    const html = await (await fetch(`${h.gateway}/`)).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${h.gateway}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = js.headers.get('etag')!;
    expect((await fetch(`${h.gateway}${asset}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // Compressed once at build time: brotli or gzip as the client asks, the same bytes either way.
    const plain = await rawGet(asset, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    const br = await rawGet(asset, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 2);
    const gz = await rawGet(asset, { 'accept-encoding': 'gzip;q=1, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(new Set([plain.headers.etag, br.headers.etag, gz.headers.etag]).size).toBe(3);
    // A stale page asking for an asset that no longer exists gets a 404, never index.html.
    const missing = await fetch(`${h.gateway}/assets/index-AAAAAAAA.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/json/);
  });

  it('never shadows /api, /health or /metrics with the app', async () => {
    const unknownApi = await call('/api/no-such-route');
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.body.code).toBe('ROUTE_NOT_FOUND');
    for (const path of ['/api', '/api/apps/x/y/z/w', '/health/nope', '/metrics/x']) {
      const res = await fetch(`${h.gateway}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
    }
    const health = await fetch(`${h.gateway}/health`);
    expect(health.headers.get('content-type')).toMatch(/application\/json/);
    const metrics = await fetch(`${h.gateway}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/# HELP/);
    expect((await call('/api/apps', { key: owner.key })).status).toBe(200);
  });

  it('exchanges a key for an HttpOnly SameSite=Strict cookie; reads work with the cookie alone, writes need the CSRF token', async () => {
    const { cookie, csrf, res } = await signIn(owner.key);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^osk_session=[A-Za-z0-9_-]{43}; Path=\/api; Max-Age=900; HttpOnly; SameSite=Strict$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ teamId: owner.teamId, role: 'owner', scopes: [], operator: false });
    expect(res.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(800_000);
    // The answer never carries the key itself.
    expect(res.text).not.toContain(owner.key);

    const me = await call('/api/session', withCookie(cookie));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'owner', csrfToken: csrf });
    expect((await call('/api/apps', withCookie(cookie))).status).toBe(200);

    const noToken = await call('/api/apps', withCookie(cookie, { method: 'POST', body: { name: 'no csrf' } }));
    expect(noToken.status).toBe(403);
    expect(noToken.body.code).toBe('CSRF_TOKEN_INVALID');
    const wrongToken = await call(
      '/api/apps',
      withCookie(cookie, { method: 'POST', body: { name: 'wrong csrf' }, headers: { 'x-csrf-token': `${csrf.slice(0, -1)}x` } }),
    );
    expect(wrongToken.body.code).toBe('CSRF_TOKEN_INVALID');
    const created = await call('/api/apps', withCookie(cookie, { method: 'POST', body: { name: 'made from the console' }, headers: { 'x-csrf-token': csrf } }));
    expect(created.status).toBe(201);
    // A key header needs no CSRF token (a browser cannot be made to send one cross-site).
    expect((await call('/api/apps', { method: 'POST', body: { name: 'made with a key' }, key: owner.key })).status).toBe(201);

    // Audited like every mutation: the sign-in names its key, the CSRF refusal its code.
    const signIns = await auditRows(owner.teamId, 'POST /api/session');
    expect(signIns[0]).toMatchObject({ result: 'ok', status: 201, keyPrefix: me.body.keyPrefix });
    const refusals = (await call(`/api/audit?result=CSRF_TOKEN_INVALID`, { key: owner.key })).body.data;
    expect(refusals.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a bad key with the one 401 answer and sets no cookie; refuses a malformed body with 400', async () => {
    for (const key of ['osk_aaaaaaaaaaaa_' + 'b'.repeat(43), 'nonsense', `${owner.key.slice(0, -1)}x`]) {
      const res = await call('/api/session', { method: 'POST', key: null, body: { key } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect((await call('/api/session', { method: 'POST', key: null, body: { key: owner.key, extra: 1 } })).status).toBe(400);
    expect((await call('/api/session', { method: 'POST', key: null, body: {} })).status).toBe(400);
    // A forged or unknown session id is not a session.
    expect((await call('/api/apps', withCookie(`osk_session=${'A'.repeat(43)}`))).status).toBe(401);
    expect((await call('/api/apps', withCookie('osk_session=short'))).status).toBe(401);
  });

  it('signs the console out when its key is revoked, and on sign-out', async () => {
    const created = await call('/api/keys', { method: 'POST', key: owner.key, body: { name: 'console user', role: 'member' } });
    const { cookie, csrf } = await signIn(created.body.key);
    expect((await call('/api/apps', withCookie(cookie))).status).toBe(200);
    expect((await call(`/api/keys/${created.body.id}`, { method: 'DELETE', key: owner.key })).status).toBe(200);
    const after = await call('/api/apps', withCookie(cookie));
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('UNAUTHENTICATED');
    // Signing in again with the revoked key fails too.
    expect((await call('/api/session', { method: 'POST', key: null, body: { key: created.body.key } })).status).toBe(401);
    expect((await call('/api/session', withCookie(cookie, { method: 'DELETE', headers: { 'x-csrf-token': csrf } }))).status).toBe(401);

    const second = await signIn(owner.key);
    expect((await call('/api/session', withCookie(second.cookie, { method: 'DELETE' }))).body.code).toBe('CSRF_TOKEN_INVALID');
    const out = await call('/api/session', withCookie(second.cookie, { method: 'DELETE', headers: { 'x-csrf-token': second.csrf } }));
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ signedOut: true });
    expect(out.headers.get('set-cookie')).toMatch(/^osk_session=; Path=\/api; Max-Age=0; HttpOnly; SameSite=Strict$/);
    expect((await call('/api/apps', withCookie(second.cookie))).status).toBe(401);
  });

  it('ends the session when it expires in Redis', async () => {
    const { cookie } = await signIn(owner.key);
    const redis = new Redis(h.redisUrl);
    try {
      const keys = await redis.keys('gateway:session:*');
      expect(keys.length).toBeGreaterThan(0);
      const ttls = await Promise.all(keys.map((k) => redis.ttl(k)));
      for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(900);
      expect((await call('/api/apps', withCookie(cookie))).status).toBe(200);
      // Every session expires now, as if its TTL had run out.
      for (const k of keys) await redis.pexpire(k, 1);
      await new Promise((r) => setTimeout(r, 20));
      expect((await call('/api/apps', withCookie(cookie))).status).toBe(401);
    } finally {
      redis.disconnect();
    }
  });
});

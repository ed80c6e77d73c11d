import { ErrorCode } from '@overskill/contracts';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { GuardedHttpClient, type FetchOptions, type HostResolver } from './guarded-http.client';

// The real fetch path (DNS decision, pinned connect, redirects, caps) against an origin on
// 127.0.0.1, which is allowlisted for this spec only. Nothing here connects anywhere else: every
// refused hop is refused before a socket exists.
describe('GuardedHttpClient against a local origin', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const routes: Record<string, (res: ServerResponse) => void> = {};

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      const route = routes[req.url ?? ''];
      if (route) route(res);
      else res.writeHead(404).end('nope');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const page = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>ok</h1>');
    Object.assign(routes, {
      '/page': page,
      '/hop1': (res: ServerResponse) => res.writeHead(301, { location: '/hop2' }).end(),
      '/hop2': (res: ServerResponse) => res.writeHead(302, { location: `http://origin.test:${port}/page` }).end(),
      '/to-loopback-2': (res: ServerResponse) => res.writeHead(302, { location: `http://127.0.0.2:${port}/page` }).end(),
      '/to-v6-loopback': (res: ServerResponse) => res.writeHead(307, { location: `http://[::1]:${port}/page` }).end(),
      '/to-metadata': (res: ServerResponse) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      '/to-decimal': (res: ServerResponse) => res.writeHead(302, { location: `http://2130706434:${port}/page` }).end(),
      '/to-private-name': (res: ServerResponse) => res.writeHead(302, { location: 'http://intranet.test/' }).end(),
      '/to-file': (res: ServerResponse) => res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
      '/loop': (res: ServerResponse) => res.writeHead(302, { location: '/loop' }).end(),
      '/declared-big': (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html', 'content-length': '5000' }).end('x'.repeat(5000)),
      '/streamed-big': (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        for (let i = 0; i < 10; i++) res.write('x'.repeat(500));
        res.end();
      },
      '/gzip-bomb': (res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(1_000_000, 'a'))),
      '/gzip-ok': (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(gzipSync('<p>small</p>')),
      '/slow': (res: ServerResponse) => void setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end('late'), 3000),
      '/binary': (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/x-msdownload' }).end('MZ'),
      '/gone': (res: ServerResponse) => res.writeHead(410).end(),
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (seen.length = 0));

  const asked: string[] = [];
  const resolver: HostResolver = async (host) => {
    asked.push(host);
    if (host === 'origin.test') return [{ address: '127.0.0.1', family: 4 }];
    if (host === 'intranet.test') return [{ address: '10.0.0.8', family: 4 }];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  };
  const client = (overrides: Partial<{ TOOL_FETCH_ALLOWLIST: string[]; TOOL_FETCH_TIMEOUT_MS: number; TOOL_FETCH_MAX_REDIRECTS: number }> = {}) =>
    new GuardedHttpClient({ TOOL_FETCH_ALLOWLIST: ['127.0.0.1'], TOOL_FETCH_TIMEOUT_MS: 1000, TOOL_FETCH_MAX_REDIRECTS: 3, ...overrides }, resolver);
  const html: FetchOptions = { maxBytes: 1000, accept: (t) => t === 'text/html', acceptHeader: 'text/html', acceptDescription: 'HTML pages' };
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  it('fetches from the allowlisted origin', async () => {
    const page = await client().get(url('/page'), html);
    expect(page).toMatchObject({ status: 200, mediaType: 'text/html', charset: 'utf-8', address: '127.0.0.1', redirects: [] });
    expect(page.body.toString()).toBe('<h1>ok</h1>');
  });

  it('connects to the address it vetted, once resolved, sending the real Host', async () => {
    asked.length = 0;
    const page = await client().get(`http://origin.test:${port}/page`, html);
    expect(page.address).toBe('127.0.0.1');
    expect(asked).toEqual(['origin.test']);
    expect(seen[0]!.headers.host).toBe(`origin.test:${port}`);
  });

  it('lets an allowlisted host name through whatever it resolves to', async () => {
    const page = await client({ TOOL_FETCH_ALLOWLIST: ['origin.test'] }).get(`http://origin.test:${port}/page`, html);
    expect(page.status).toBe(200);
    await expect(client({ TOOL_FETCH_ALLOWLIST: ['origin.test'] }).get(url('/page'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_BLOCKED });
  });

  it('follows redirects by hand, deciding every hop again', async () => {
    const page = await client().get(url('/hop1'), html);
    expect(page.redirects).toEqual([url('/hop2'), `http://origin.test:${port}/page`]);
    expect(seen.map((s) => s.path)).toEqual(['/hop1', '/hop2', '/page']);
  });

  it.each(['/to-loopback-2', '/to-v6-loopback', '/to-metadata', '/to-decimal', '/to-private-name', '/to-file'])(
    'refuses the redirect of %s before connecting to it',
    async (path) => {
      await expect(client().get(url(path), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_BLOCKED });
      expect(seen.map((s) => s.path)).toEqual([path]);
    },
  );

  it('stops an endless redirect chain', async () => {
    await expect(client().get(url('/loop'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_REDIRECT_LIMIT });
    expect(seen).toHaveLength(4);
  });

  it('caps the size, declared or streamed, and after decompression', async () => {
    await expect(client().get(url('/declared-big'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_TOO_LARGE });
    await expect(client().get(url('/streamed-big'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_TOO_LARGE });
    await expect(client().get(url('/gzip-bomb'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_TOO_LARGE });
    expect((await client().get(url('/gzip-ok'), html)).body.toString()).toBe('<p>small</p>');
  });

  it('gives up at the deadline', async () => {
    const started = Date.now();
    await expect(client({ TOOL_FETCH_TIMEOUT_MS: 300 }).get(url('/slow'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_TIMEOUT });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses an unwanted content type and reports HTTP errors', async () => {
    await expect(client().get(url('/binary'), html)).rejects.toMatchObject({
      code: ErrorCode.TOOL_FETCH_CONTENT_TYPE,
      message: expect.stringContaining('application/x-msdownload'),
    });
    await expect(client().get(url('/gone'), html)).rejects.toMatchObject({ code: ErrorCode.TOOL_FETCH_FAILED, message: expect.stringContaining('HTTP 410') });
  });
});

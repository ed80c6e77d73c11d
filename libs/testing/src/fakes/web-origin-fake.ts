import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback-http-server';

export interface OriginResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  // Sent in this many pieces, `chunkDelayMs` apart (slow or endless bodies).
  chunks?: number;
  chunkDelayMs?: number;
  // Wait before the status line (a server that never answers in time).
  delayMs?: number;
  // Keep sending this chunk until the client goes away.
  endless?: Buffer;
}

export type OriginHandler = (request: { method: string; path: string; headers: IncomingHttpHeaders }) => OriginResponse;

export interface RecordedOriginRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

// An HTTP origin on 127.0.0.1 for the fetch tools (and anything else that speaks HTTP to the
// outside: a package registry, a search provider): pages, redirects, wrong content types, huge,
// slow and compressed bodies, each scripted per path. Unknown paths answer 404.
export class WebOriginFake {
  private server: Server | undefined;
  private readonly routes = new Map<string, OriginHandler>();
  readonly requests: RecordedOriginRequest[] = [];
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.server);
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  // `path` includes the query string when the route should only match it.
  route(path: string, response: OriginResponse | OriginHandler): this {
    this.routes.set(path, typeof response === 'function' ? response : () => response);
    return this;
  }

  html(path: string, html: string): this {
    return this.route(path, { headers: { 'content-type': 'text/html; charset=utf-8' }, body: html });
  }

  json(path: string, body: unknown, status = 200): this {
    return this.route(path, { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  redirect(path: string, location: string, status = 302): this {
    return this.route(path, { status, headers: { location } });
  }

  reset(): void {
    this.routes.clear();
    this.requests.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? url;
    this.requests.push({ method: req.method ?? 'GET', path: url, headers: req.headers });
    req.resume();
    const handler = this.routes.get(url) ?? this.routes.get(path);
    const spec = handler ? handler({ method: req.method ?? 'GET', path: url, headers: req.headers }) : { status: 404, body: 'not found' };
    if (spec.delayMs) await sleep(spec.delayMs);
    if (res.destroyed) return;
    const body = typeof spec.body === 'string' ? Buffer.from(spec.body) : (spec.body ?? Buffer.alloc(0));
    const headers: Record<string, string | number> = { ...(spec.headers ?? {}) };
    if (!spec.endless && !spec.chunks && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = body.length;
    res.writeHead(spec.status ?? 200, headers);
    if (spec.endless) {
      while (!res.destroyed && res.writable) {
        if (!res.write(spec.endless)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done).off('close', done);
              resolve();
            };
            res.on('drain', done).on('close', done);
          });
        }
      }
      return;
    }
    if (spec.chunks && spec.chunks > 1) {
      const size = Math.ceil(body.length / spec.chunks);
      for (let at = 0; at < body.length && !res.destroyed; at += size) {
        res.write(body.subarray(at, at + size));
        await sleep(spec.chunkDelayMs ?? 0);
      }
      res.end();
      return;
    }
    res.end(body);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { injectCapture } from '../capture-script';

export interface ProxyTarget {
  host: string;
  port: number;
  // A dev server is asked as 127.0.0.1:<port> (Vite refuses hosts it does not know); another
  // replica's listener keeps the preview's own Host, which names the app.
  rewriteHost: boolean;
  // Only the replica talking to the dev server injects, once.
  inject: boolean;
  extraHeaders?: Record<string, string>;
}

export const FORWARDED_HEADER = 'x-overskill-preview-forwarded';
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);
const MAX_INJECTED_HTML = 10 * 1024 * 1024;

function outgoingHeaders(headers: IncomingHttpHeaders, target: ProxyTarget): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  if (target.rewriteHost) {
    out['host'] = `${target.host}:${target.port}`;
    if (out['origin']) out['origin'] = `http://${target.host}:${target.port}`;
  }
  // HTML is rewritten on the way back: ask for it uncompressed.
  if (target.inject) out['accept-encoding'] = 'identity';
  return { ...out, ...target.extraHeaders };
}

function replyHeaders(upstream: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

// One HTTP request through to the target; an HTML answer gets the capture script.
export function proxyHttp(req: IncomingMessage, res: ServerResponse, target: ProxyTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const upstreamReq = request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: outgoingHeaders(req.headers, target) },
      (upstream) => {
        const headers = replyHeaders(upstream);
        const html = target.inject && /^text\/html/i.test(String(upstream.headers['content-type'] ?? '')) && !upstream.headers['content-encoding'];
        if (!html) {
          res.writeHead(upstream.statusCode ?? 502, headers);
          upstream.pipe(res);
          upstream.on('end', resolve);
          upstream.on('error', reject);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        upstream.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_INJECTED_HTML) chunks.push(chunk);
        });
        upstream.on('error', reject);
        upstream.on('end', () => {
          const body = Buffer.from(injectCapture(Buffer.concat(chunks).toString('utf8')));
          delete headers['content-length'];
          res.writeHead(upstream.statusCode ?? 200, { ...headers, 'content-length': String(body.length) });
          res.end(body);
          resolve();
        });
      },
    );
    upstreamReq.on('error', reject);
    req.pipe(upstreamReq);
  });
}

// A websocket (Vite's HMR) through to the target: the upgrade request rewritten like any other,
// then bytes both ways until either side closes.
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: ProxyTarget): void {
  const upstream = connect(target.port, target.host, () => {
    const headers = outgoingHeaders(req.headers, { ...target, inject: false });
    const lines = [`${req.method} ${req.url} HTTP/1.1`, 'connection: Upgrade', `upgrade: ${req.headers.upgrade ?? 'websocket'}`];
    for (const [name, value] of Object.entries(headers)) for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  // Either side ending ends both: an upgrade socket is half-open by default, and a peer that
  // never ends its half would keep the pair (and the dev server's activity) alive for ever.
  const closeBoth = () => {
    socket.destroy();
    upstream.destroy();
  };
  for (const side of [socket, upstream]) for (const event of ['error', 'end', 'close']) side.on(event, closeBoth);
}

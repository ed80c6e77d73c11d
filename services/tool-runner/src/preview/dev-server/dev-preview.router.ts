import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, errorHttpStatus } from '@overskill/contracts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { INGEST_PATH } from '../capture-script';
import { previewFilePath } from '../preview-path';
import { PreviewService, type ResolvedPreview } from '../preview.service';
import { DevServerService, type DevTarget } from './dev-server.service';
import { FORWARDED_HEADER, proxyHttp, proxyUpgrade, type ProxyTarget } from './dev-proxy';

const SANDBOX_LOOPBACK = '127.0.0.1';
const KEEP_ALIVE_MS = 1000;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The small page a view gets while the dev server starts (it reloads itself), or after it crashed.
export function statusPage(state: string, reason: string): string {
  const starting = state !== 'crashed';
  const title = starting ? 'Starting the preview…' : 'The preview crashed';
  return `<!doctype html><html><head><meta charset="utf-8">${starting ? '<meta http-equiv="refresh" content="2">' : ''}<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0;color:#333}main{max-width:40rem;padding:1rem}</style>
</head><body><main><h1>${title}</h1><p>State: <b>${escapeHtml(state)}</b></p><p>${escapeHtml(reason)}</p></main></body></html>`;
}

// Views of the latest version of a dev-server app, before Fastify sees them: proxied to the dev
// server this replica runs, forwarded to the replica that runs it, or a status page. Everything
// else (static apps, versions by sha, the capture ingest, unknown hosts) is Fastify's.
@Injectable()
export class DevPreviewRouter {
  constructor(
    private readonly previews: PreviewService,
    private readonly dev: DevServerService,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const found = await this.devPreview(req);
    if (!found) return false;
    try {
      const target = await this.targetOf(req, found);
      if (target.kind === 'unavailable') {
        const code = target.state === 'crashed' ? ErrorCode.PREVIEW_CRASHED : ErrorCode.PREVIEW_STARTING;
        const message = target.reason || (target.state === 'crashed' ? 'The dev server crashed' : 'The dev server is starting');
        if ((req.headers.accept ?? '').includes('text/html')) {
          res.writeHead(errorHttpStatus[code], { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '2' });
          res.end(statusPage(target.state, message));
        } else sendError(res, new AppError(code, message));
        return true;
      }
      await proxyHttp(req, res, this.proxyTarget(target));
    } catch (err) {
      if (!res.headersSent)
        sendError(res, err instanceof AppError ? err : new AppError(ErrorCode.PREVIEW_CRASHED, 'The dev server did not answer; it may have just stopped'));
      else res.destroy();
    }
    return true;
  }

  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const found = await this.devPreview(req);
      const target = found && (await this.targetOf(req, found));
      if (!found || !target || target.kind === 'unavailable') throw new AppError(ErrorCode.PREVIEW_STARTING, 'No dev server answers websockets here');
      proxyUpgrade(req, socket, head, this.proxyTarget(target));
      // An open page (its HMR socket) is a viewer: the dev server is not idle while it is there.
      const keepAlive = setInterval(() => this.dev.touch(found.owner.appId), KEEP_ALIVE_MS);
      keepAlive.unref();
      socket.once('close', () => clearInterval(keepAlive));
    } catch {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
  }

  private async devPreview(req: IncomingMessage): Promise<ResolvedPreview | undefined> {
    if (!this.dev.enabled || (req.url ?? '').startsWith(INGEST_PATH)) return undefined;
    let preview: ResolvedPreview;
    try {
      preview = await this.previews.resolve(req.headers.host);
    } catch {
      return undefined;
    }
    // Versions by sha stay static: a dev server runs the latest files only.
    if (preview.address.sha || !(await this.dev.devPackage(preview.owner))) return undefined;
    return preview;
  }

  private async targetOf(req: IncomingMessage, preview: ResolvedPreview): Promise<DevTarget> {
    checkDevPath(req.url ?? '/');
    const pkg = await this.dev.devPackage(preview.owner);
    if (!pkg) throw new AppError(ErrorCode.PREVIEW_STARTING, 'This app no longer has a dev script');
    const target = await this.dev.target(preview.owner, pkg);
    // A forwarded view is never forwarded again: the owner changed while it travelled.
    if (target.kind === 'forward' && req.headers[FORWARDED_HEADER])
      return { kind: 'unavailable', state: 'starting', reason: 'The preview is moving between replicas' };
    return target;
  }

  private proxyTarget(target: Exclude<DevTarget, { kind: 'unavailable' }>): ProxyTarget {
    if (target.kind === 'local') return { host: SANDBOX_LOOPBACK, port: target.port, rewriteHost: true, inject: true };
    const url = new URL(target.listener);
    return { host: url.hostname, port: Number(url.port), rewriteHost: false, inject: false, extraHeaders: { [FORWARDED_HEADER]: this.dev.replica } };
  }
}

// The same refusals as static files (`..`, encoded slashes, control characters), and no dot-names
// but Vite's own `.vite` folder of pre-bundled dependencies.
function checkDevPath(url: string): void {
  const { path } = previewFilePath(url);
  if (path.split('/').some((name) => name.startsWith('.') && name !== '.vite'))
    throw new AppError(ErrorCode.PREVIEW_FILE_NOT_FOUND, 'Files and folders whose names start with a dot are not served');
}

function sendError(res: ServerResponse, err: AppError): void {
  res.writeHead(errorHttpStatus[err.code], { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
  res.end(JSON.stringify({ code: err.code, message: err.message }));
}

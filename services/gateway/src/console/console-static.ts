import { NotFoundException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayEnv } from '../config';
import { loadConsoleBundle, type ConsoleAsset } from './console-assets';

// Paths the console never answers: an unknown /api route stays the API's JSON 404.
const RESERVED = /^\/(api|health|metrics)(\/|$)/;
// Vite names every built asset after its content hash, so a cached copy can never go stale.
const HASHED = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

// The web console at /: hashed assets cached for a year, index.html never cached, and every
// other unknown GET answered with index.html so the browser's router can take it.
export function registerConsole(app: NestFastifyApplication, env: GatewayEnv, logger: Logger): void {
  const dir = env.GATEWAY_CONSOLE_DIR || join(__dirname, '..', '..', '..', 'console');
  const bundle = loadConsoleBundle(dir);
  if (!bundle.index) logger.warn({ dir }, 'the web console is not built (npm run build); / answers 404');
  const fastify = app.getHttpAdapter().getInstance();

  const send = (request: FastifyRequest, reply: FastifyReply, file: ConsoleAsset, cacheControl: string) => {
    const encoding = pickEncoding(request.headers['accept-encoding'], file);
    const etag = encoding ? `${file.etag.slice(0, -1)}-${encoding}"` : file.etag;
    void reply.header('cache-control', cacheControl).header('etag', etag).header('vary', 'accept-encoding').type(file.type);
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    if (!encoding) return reply.send(file.body);
    return reply.header('content-encoding', encoding).send(encoding === 'br' ? file.br : file.gzip);
  };

  fastify.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    // Assets come compressed from the build; index.html is too small to be worth it.
    compress: false,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (RESERVED.test(path)) throw new NotFoundException();
      const file = bundle.assets.get(path);
      if (file) return send(request, reply, file, HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      // A missing asset is a 404, not the app: a stale index.html asking for it must fail loudly.
      if (path.startsWith('/assets/') || !bundle.index) throw new NotFoundException();
      return send(request, reply, bundle.index, 'no-store');
    },
  });
}

function pickEncoding(accept: string | string[] | undefined, file: ConsoleAsset): 'br' | 'gzip' | null {
  const offered = (Array.isArray(accept) ? accept.join(',') : (accept ?? '')).toLowerCase();
  const accepts = (name: string) => offered.split(',').some((part) => part.trim().split(';')[0] === name && !/;\s*q=0(\.0*)?\s*$/.test(part.trim()));
  if (file.br && accepts('br')) return 'br';
  if (file.gzip && accepts('gzip')) return 'gzip';
  return null;
}

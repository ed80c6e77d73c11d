import compress from '@fastify/compress';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ErrorCode } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { buildOpenApiDocument } from '../routing/openapi';
import type { AuditService } from '../audit/audit.service';
import type { GatewayEnv } from '../config';
import type { Principal } from '../routing/access';
import { presentedKey, type AuditableRequest } from '../routing/request';
import type { DrainController } from './drain';
import { exceedsDepth } from './json-depth';
import { securityHeaders } from './security-headers';
import { keyRateHit, rateLimitHeaders, type RateLimiter } from './rate-limiter';

export interface EdgeDeps {
  env: GatewayEnv;
  logger: Logger;
  limiter: RateLimiter;
  // A key the gateway verified recently, looked up without I/O (ApiKeysService).
  keys: { cachedPrincipal(rawKey: string | undefined): Principal | undefined };
  audit: AuditService;
  drain: DrainController;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const JSON_TYPE = /^application\/json\s*(;|$)/i;
// Model calls: long by nature, bounded by GATEWAY_LLM_REQUEST_TIMEOUT_MS instead.
const LLM_PATH = '/api/v1/messages';

type EdgeRequest = AuditableRequest & { timeoutTimer?: NodeJS.Timeout };

function errorReply(request: EdgeRequest, reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply {
  request.errorCode = code;
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send({ code, message, correlationId: requestContext.get()?.correlationId ?? String(reply.getHeader('x-correlation-id') ?? '') });
}

// Everything the public edge does around the routes: security headers, CORS, compression, the
// OpenAPI document and UI, per-IP rate limits, JSON depth cap, request timeout, drain on
// shutdown, and the audit record of every mutating request and every authentication failure.
export async function registerEdge(app: NestFastifyApplication, deps: EdgeDeps): Promise<void> {
  const { env } = deps;
  const fastify = app.getHttpAdapter().getInstance();
  const server = app.getHttpServer();
  server.keepAliveTimeout = env.GATEWAY_KEEP_ALIVE_TIMEOUT_MS;
  // Above the keep-alive timeout, so a proxy's reused connection is never cut mid-request.
  server.headersTimeout = env.GATEWAY_KEEP_ALIVE_TIMEOUT_MS + 1000;
  // Slow-body (slowloris) cap: the whole request must arrive within the request timeout.
  server.requestTimeout = env.GATEWAY_REQUEST_TIMEOUT_MS;

  const security = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        // The console shows each app's preview, which lives on its own origin under the preview host.
        frameSrc: [`*.${env.PREVIEW_BASE_URL}:*`],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  fastify.addHook('onRequest', (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    void reply.headers(security);
    done();
  });
  await app.register(cors, {
    origin: env.GATEWAY_CORS_ORIGINS.length > 0 ? env.GATEWAY_CORS_ORIGINS : false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-correlation-id', 'last-event-id'],
    exposedHeaders: ['x-correlation-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy'],
    maxAge: 600,
  });
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip', 'deflate'],
    customTypes: /^(application\/json|text\/(plain|html|css|javascript))/,
  });

  const document = buildOpenApiDocument();
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/api/documentation', staticCSP: false, uiConfig: { deepLinking: true } });

  fastify.addHook('onRequest', async (request: EdgeRequest, reply: FastifyReply) => {
    if (deps.drain.draining) {
      void reply.header('connection', 'close');
      return errorReply(request, reply, 503, ErrorCode.DEPENDENCY_UNAVAILABLE, 'This gateway replica is shutting down; retry');
    }
    deps.drain.started();
    // 'close' comes once per response, also when the client went away before it was written
    // (onResponse does not run then).
    reply.raw.once('close', () => {
      deps.drain.finished();
      if (request.timeoutTimer) clearTimeout(request.timeoutTimer);
    });
    if (!request.url.startsWith('/api/') && request.url !== '/api') return;
    if (isPreviewOrigin(request.headers.origin, env.PREVIEW_BASE_URL)) {
      return errorReply(request, reply, 403, ErrorCode.PREVIEW_ORIGIN_REFUSED, 'App previews may not call the API: a preview page runs the app’s own code');
    }
    // A key whose row this replica has cached is valid or not without I/O: its own limit is
    // counted in the same Redis round trip as the address's, and the guard uses that decision.
    const principal = deps.keys.cachedPrincipal(presentedKey(request));
    const ipHit = { bucket: `ip:${request.ip}`, limit: env.GATEWAY_RATE_LIMIT_IP_MAX, windowSeconds: env.GATEWAY_RATE_LIMIT_IP_WINDOW_SECONDS };
    const [decision, keyDecision] = await deps.limiter.hitAll(principal ? [ipHit, keyRateHit(principal.keyId, env)] : [ipHit]);
    if (principal && keyDecision) request.keyRate = { principal, decision: keyDecision };
    void reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) {
      void reply.header('retry-after', String(decision.resetSeconds));
      return errorReply(
        request,
        reply,
        429,
        ErrorCode.RATE_LIMITED,
        `More than ${decision.limit} requests from this address in ${decision.windowSeconds} s; retry after ${decision.resetSeconds} s`,
      );
    }
    // Event streams are long-lived by design; everything else is answered in bounded time.
    if (!request.url.includes('/events')) {
      const limitMs = request.url.startsWith(LLM_PATH) ? env.GATEWAY_LLM_REQUEST_TIMEOUT_MS : env.GATEWAY_REQUEST_TIMEOUT_MS;
      request.timeoutTimer = setTimeout(() => {
        if (reply.sent || reply.raw.headersSent) return;
        deps.logger.warn({ url: request.routeOptions.url, method: request.method }, 'request timed out');
        errorReply(request, reply, 504, ErrorCode.REQUEST_TIMEOUT, `No answer within ${limitMs} ms; the operation may still complete, check before retrying`);
      }, limitMs);
    }
    return undefined;
  });

  fastify.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.body === undefined) return undefined;
    // Fastify also parses text/plain; the API takes JSON only.
    if (!JSON_TYPE.test(request.headers['content-type'] ?? '')) {
      return errorReply(request as EdgeRequest, reply, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Send JSON bodies with Content-Type: application/json');
    }
    if (exceedsDepth(request.body, env.GATEWAY_JSON_MAX_DEPTH)) {
      return errorReply(
        request as EdgeRequest,
        reply,
        400,
        ErrorCode.VALIDATION_FAILED,
        `The JSON body is nested deeper than ${env.GATEWAY_JSON_MAX_DEPTH} levels`,
      );
    }
    return undefined;
  });

  fastify.addHook('onResponse', async (request: EdgeRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url;
    const isApi = request.url.startsWith('/api/');
    const authFailed = reply.statusCode === 401;
    // A model call changes nothing: it is accounted by ai-router's usage event, not audited.
    const mutating = !READ_METHODS.has(request.method) && isApi && !request.url.startsWith(LLM_PATH);
    if (!authFailed && !mutating) return;
    const p = request.principal;
    const f = request.authFailure;
    deps.audit.recordInBackground({
      teamId: p?.teamId ?? f?.teamId ?? null,
      actor: p?.keyId ?? '',
      keyPrefix: p?.keyPrefix ?? f?.keyPrefix ?? '',
      action: authFailed ? 'auth.failed' : `${request.method} ${route ?? pathOnly(request.url)}`,
      target: authFailed ? `${request.method} ${pathOnly(request.url)}`.slice(0, 300) : targetOf(request.params),
      ip: request.ip,
      result: reply.statusCode < 400 ? 'ok' : (request.errorCode ?? String(reply.statusCode)),
      status: reply.statusCode,
      correlationId: String(reply.getHeader('x-correlation-id') ?? ''),
    });
  });
}

// <anything>.<preview domain>, on any scheme and port.
export function isPreviewOrigin(origin: string | undefined, previewDomain: string): boolean {
  if (!origin || !URL.canParse(origin)) return false;
  const host = new URL(origin).hostname.toLowerCase();
  return host === previewDomain || host.endsWith(`.${previewDomain}`);
}

function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function targetOf(params: unknown): string {
  if (!params || typeof params !== 'object') return '';
  return Object.entries(params as Record<string, unknown>)
    .map(([k, v]) => `${k.replace(/Id$/, '')}:${String(v).slice(0, 80)}`)
    .join(' ');
}

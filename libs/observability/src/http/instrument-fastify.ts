import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import { acceptCorrelationId, newCorrelationId } from '../context/correlation-id';
import { requestContext, type RequestContextData } from '../context/request-context';
import type { ServiceMetrics } from '../metrics/service-metrics';
import { getTracer } from '../tracing/get-tracer';

export interface InstrumentFastifyOptions {
  service: string;
  metrics: ServiceMetrics;
  logger: pino.Logger;
}

export const CORRELATION_ID_HEADER = 'x-correlation-id';
const UNMATCHED_ROUTE = 'unmatched';

// @nestjs/platform-fastify ships its own copy of fastify, whose types differ from the top-level one
// in name only; accept either and use just the hook surface both share.
type NestFastifyInstance = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

interface HookRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  routeOptions: { url?: string };
}

interface HookReply {
  statusCode: number;
  elapsedTime: number;
  header(name: string, value: string): unknown;
}

type Done = (error?: Error) => void;

interface HookRegistrar {
  addHook(name: 'onRequest' | 'preValidation' | 'preHandler' | 'onResponse', hook: (request: HookRequest, reply: HookReply, done: Done) => void): unknown;
  addHook(name: 'onRequestAbort', hook: (request: HookRequest, done: Done) => void): unknown;
}

interface RequestTelemetry {
  otelContext: Context;
  data: RequestContextData;
  span?: Span;
}

/**
 * Correlation id, W3C trace context, a SERVER span and the request duration histogram for every request.
 * Call on app.getHttpAdapter().getInstance() before app.init()/listen(): Fastify refuses hooks once ready.
 */
export function instrumentFastify(fastify: NestFastifyInstance | FastifyInstance, opts: InstrumentFastifyOptions): void {
  const app = fastify as unknown as HookRegistrar;
  const telemetry = new WeakMap<HookRequest, RequestTelemetry>();
  const tracer = getTracer();

  app.addHook('onRequest', (request, reply, done) => {
    const correlationId = acceptCorrelationId(request.headers[CORRELATION_ID_HEADER]) ?? newCorrelationId();
    reply.header(CORRELATION_ID_HEADER, correlationId);

    const route = routeOf(request);
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const state: RequestTelemetry = { otelContext: parent, data: { correlationId } };
    // Probes and scrapes arrive every few seconds; as spans they would bury the real traffic.
    if (!isProbe(route)) {
      state.span = tracer.startSpan(
        `HTTP ${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: request.method,
            [ATTR_HTTP_ROUTE]: route,
            [ATTR_URL_PATH]: pathOf(request.url),
            'overskill.correlation_id': correlationId,
          },
        },
        parent,
      );
      state.otelContext = trace.setSpan(parent, state.span);
    }
    telemetry.set(request, state);
    runWithin(state, done);
  });

  // Body chunks are emitted by the socket, which may run outside the context entered in onRequest
  // (nodejs/node#34430). Node 20 keeps it in our tests, but entering it again before validation and
  // the handler is cheap and keeps Nest guards, pipes, controllers and services correct regardless.
  const reenter = (request: HookRequest, _reply: HookReply, done: Done): void => {
    const state = telemetry.get(request);
    if (state) runWithin(state, done);
    else done();
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);

  app.addHook('onResponse', (request, reply, done) => {
    const route = routeOf(request);
    const statusCode = reply.statusCode;
    opts.metrics.httpRequestDuration.observe({ method: request.method, route, status_code: String(statusCode) }, reply.elapsedTime / 1000);

    const state = telemetry.get(request);
    telemetry.delete(request);
    if (state) {
      if (state.span) {
        state.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
        if (statusCode >= 500) state.span.setStatus({ code: SpanStatusCode.ERROR });
        state.span.end();
      }
      const level = isProbe(route) ? 'debug' : statusCode >= 500 ? 'error' : 'info';
      const fields = { method: request.method, route, statusCode, duration: Math.round(reply.elapsedTime) };
      runWithin(state, () => opts.logger[level](fields, 'request completed'));
    }
    done();
  });

  // The client went away before the answer: no response to time, but the span must still end.
  app.addHook('onRequestAbort', (request, done) => {
    const state = telemetry.get(request);
    telemetry.delete(request);
    if (state?.span) {
      state.span.setAttribute('http.request.aborted', true);
      state.span.end();
    }
    done();
  });
}

function runWithin<T>(state: RequestTelemetry, fn: () => T): T {
  return requestContext.runIn(state.otelContext, state.data, fn);
}

function routeOf(request: HookRequest): string {
  return request.routeOptions.url ?? UNMATCHED_ROUTE;
}

// Scrapes and health probes (the gateway's /health summary included).
function isProbe(route: string): boolean {
  return route === '/metrics' || route === '/health' || route.startsWith('/health/');
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

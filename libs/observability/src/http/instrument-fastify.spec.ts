import { Body, Controller, Get, Inject, Injectable, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type pino from 'pino';
import { prometheusSample } from '../__tests__/prometheus-sample';
import { requestContext } from '../context/request-context';
import { createLogger } from '../logging/create-logger';
import { createServiceMetrics } from '../metrics/service-metrics';
import { ObservabilityModule } from '../nest/observability.module';
import { LOGGER } from '../nest/observability.tokens';
import { startTracing, type TracingHandle } from '../tracing/start-tracing';
import { instrumentFastify } from './instrument-fastify';

const SERVICE = 'fastify-spec';
const PARENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

interface SeenContext {
  traceId?: string;
  spanId?: string;
  correlationId?: string;
  path: string;
}

// Stands for a service a controller awaits: it must see the request's span and context too.
@Injectable()
class ProbeService {
  constructor(@Inject(LOGGER) private readonly logger: pino.Logger) {}

  async observe(path: string): Promise<SeenContext> {
    await sleep(5);
    await new Promise((resolve) => setImmediate(resolve));
    this.logger.info({ path }, 'probe handled');
    const span = trace.getActiveSpan()?.spanContext();
    return { traceId: span?.traceId, spanId: span?.spanId, correlationId: requestContext.get()?.correlationId, path };
  }
}

@Controller('probe')
class ProbeController {
  constructor(private readonly probe: ProbeService) {}

  @Get(':id')
  async read(@Param('id') id: string): Promise<SeenContext> {
    await sleep(1);
    return this.probe.observe(`get ${id}`);
  }

  @Post()
  async write(@Body() body: { name: string }): Promise<SeenContext> {
    return this.probe.observe(`post ${body.name}`);
  }

  @Get()
  boom(): never {
    throw new Error('exploded');
  }
}

function captureLogs(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { stream, lines };
}

describe('instrumentFastify on a Nest app (Fastify adapter)', () => {
  const exported = new InMemorySpanExporter();
  let tracing: TracingHandle;
  let app: NestFastifyApplication;
  let baseUrl: string;
  const logs = captureLogs();
  const metrics = createServiceMetrics(SERVICE);

  beforeAll(async () => {
    // The OTLP wire path is covered by otlp-export.spec.ts; here spans are kept in memory to inspect.
    tracing = startTracing({ service: SERVICE, spanExporter: exported });
    const logger = createLogger({ service: SERVICE, destination: logs.stream });

    @Module({
      imports: [ObservabilityModule.forRoot({ service: SERVICE, logger, metrics })],
      controllers: [ProbeController],
      providers: [ProbeService],
    })
    class AppModule {}

    app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
    instrumentFastify(app.getHttpAdapter().getInstance(), { service: SERVICE, metrics, logger });
    await app.listen(0, '127.0.0.1');
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await tracing?.shutdown();
  });

  function traceparent(spanId = PARENT_SPAN_ID, traceId = PARENT_TRACE_ID): string {
    return `00-${traceId}-${spanId}-01`;
  }

  async function spansNamed(name: string, count = 1): Promise<ReadableSpan[]> {
    // Spans end in onResponse, just after the client has its answer; flush until they arrive.
    for (let attempt = 0; attempt < 40; attempt += 1) {
      await tracing.forceFlush();
      const found = exported.getFinishedSpans().filter((span) => span.name === name);
      if (found.length >= count) return found;
      await sleep(25);
    }
    throw new Error(`span "${name}" was not exported`);
  }

  it('makes the request span and context active inside Nest controllers and the services they await', async () => {
    const response = await fetch(`${baseUrl}/probe/42`, {
      headers: { traceparent: traceparent(), 'x-correlation-id': 'corr-get-1' },
    });
    const seen = (await response.json()) as SeenContext;

    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('corr-get-1');
    expect(seen).toMatchObject({ traceId: PARENT_TRACE_ID, correlationId: 'corr-get-1', path: 'get 42' });
    expect(seen.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.spanId).not.toBe(PARENT_SPAN_ID);

    const [span] = await spansNamed('HTTP GET /probe/:id');
    expect(span.spanContext()).toMatchObject({ traceId: PARENT_TRACE_ID, spanId: seen.spanId });
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span.resource.attributes['service.name']).toBe(SERVICE);
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/probe/:id',
      'url.path': '/probe/42',
      'http.response.status_code': 200,
      'overskill.correlation_id': 'corr-get-1',
    });

    const handled = logs.lines.find((line) => line['message'] === 'probe handled' && line['path'] === 'get 42');
    expect(handled).toMatchObject({ traceId: PARENT_TRACE_ID, spanId: seen.spanId, correlationId: 'corr-get-1' });
    const completed = logs.lines.find((line) => line['message'] === 'request completed' && line['correlationId'] === 'corr-get-1');
    expect(completed).toMatchObject({ level: 'INFO', route: '/probe/:id', statusCode: 200, traceId: PARENT_TRACE_ID });
    expect(completed?.['duration']).toEqual(expect.any(Number));
  });

  it('keeps the context across body parsing for requests with a body', async () => {
    const response = await fetch(`${baseUrl}/probe`, {
      method: 'POST',
      headers: { traceparent: traceparent('1111111111111111'), 'x-correlation-id': 'corr-post-1', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'widget' }),
    });
    const seen = (await response.json()) as SeenContext;

    expect(response.status).toBe(201);
    expect(seen).toMatchObject({ traceId: PARENT_TRACE_ID, correlationId: 'corr-post-1', path: 'post widget' });
    const [span] = await spansNamed('HTTP POST /probe');
    expect(span.parentSpanContext?.spanId).toBe('1111111111111111');
    expect(span.spanContext().spanId).toBe(seen.spanId);
  });

  it('keeps the context when the body arrives in a later packet than the headers', async () => {
    // Body chunks that come later are emitted from the socket's own async context, not the request's.
    const seen = await new Promise<SeenContext>((resolve, reject) => {
      const body = JSON.stringify({ name: 'late' });
      const req = httpRequest(`${baseUrl}/probe`, {
        method: 'POST',
        headers: {
          traceparent: traceparent('2222222222222222'),
          'x-correlation-id': 'corr-late-body',
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as SeenContext));
      });
      req.flushHeaders();
      setTimeout(() => req.end(body), 30);
    });

    expect(seen).toMatchObject({ traceId: PARENT_TRACE_ID, correlationId: 'corr-late-body', path: 'post late' });
  });

  it('keeps concurrent requests apart', async () => {
    const ids = Array.from({ length: 20 }, (_, index) => index.toString(16).padStart(32, 'a'));
    const results = await Promise.all(
      ids.map(async (traceId, index) => {
        const response = await fetch(`${baseUrl}/probe/${index}`, {
          headers: { traceparent: traceparent(PARENT_SPAN_ID, traceId), 'x-correlation-id': `corr-${index}` },
        });
        return (await response.json()) as SeenContext;
      }),
    );
    results.forEach((seen, index) => {
      expect(seen).toMatchObject({ traceId: ids[index], correlationId: `corr-${index}`, path: `get ${index}` });
    });
  });

  it('starts a new trace and correlation id when the caller sends none or a malformed one', async () => {
    const fresh = await fetch(`${baseUrl}/probe/7`);
    const freshSeen = (await fresh.json()) as SeenContext;
    expect(freshSeen.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(freshSeen.traceId).not.toBe('0'.repeat(32));
    expect(freshSeen.correlationId).toMatch(/^[A-Za-z0-9._-]{16,}$/);
    expect(fresh.headers.get('x-correlation-id')).toBe(freshSeen.correlationId);

    const malformed = await fetch(`${baseUrl}/probe/8`, { headers: { 'x-correlation-id': 'bad id; drop table' } });
    const malformedSeen = (await malformed.json()) as SeenContext;
    expect(malformedSeen.correlationId).not.toBe('bad id; drop table');
    expect(malformedSeen.correlationId).toMatch(/^[A-Za-z0-9._-]{16,}$/);
    expect(malformed.headers.get('x-correlation-id')).toBe(malformedSeen.correlationId);

    const tooLong = await fetch(`${baseUrl}/probe/9`, { headers: { 'x-correlation-id': 'x'.repeat(129) } });
    expect(tooLong.headers.get('x-correlation-id')).not.toBe('x'.repeat(129));
  });

  it('marks 5xx spans as errors and does not trace health probes or scrapes', async () => {
    const boom = await fetch(`${baseUrl}/probe`, { headers: { 'x-correlation-id': 'corr-boom' } });
    expect(boom.status).toBe(500);
    expect(boom.headers.get('x-correlation-id')).toBe('corr-boom');
    expect((await fetch(`${baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/no/such/route`)).status).toBe(404);

    const [span] = await spansNamed('HTTP GET /probe');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['http.response.status_code']).toBe(500);
    await spansNamed('HTTP GET unmatched');
    expect(exported.getFinishedSpans().filter((s) => /health|metrics/.test(s.name))).toEqual([]);
    const failed = logs.lines.find((line) => line['message'] === 'request completed' && line['correlationId'] === 'corr-boom');
    expect(failed).toMatchObject({ level: 'ERROR', statusCode: 500 });
  });

  it('counts every request in http_request_duration_seconds by route pattern, probes included', async () => {
    await fetch(`${baseUrl}/health/live`);
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const count = (method: string, route: string, status_code: string) =>
      prometheusSample(text, 'http_request_duration_seconds_count', { method, route, status_code, service: SERVICE });

    expect(count('GET', '/probe/:id', '200')).toBeGreaterThanOrEqual(24);
    expect(count('POST', '/probe', '201')).toBe(2);
    expect(count('GET', '/probe', '500')).toBe(1);
    expect(count('GET', 'unmatched', '404')).toBe(1);
    expect(count('GET', '/health/live', '200')).toBe(2);
    expect(count('GET', '/metrics', '200')).toBe(1);
  });
});

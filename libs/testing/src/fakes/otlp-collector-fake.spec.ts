import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { CollectedSpan, normaliseId, OtlpCollectorFake } from './otlp-collector-fake';

// OTLP numbers span kinds one above the API's enum (0 is UNSPECIFIED on the wire).
const OTLP_SPAN_KIND_SERVER = 2;
const OTLP_SPAN_KIND_CLIENT = 3;
const OTLP_STATUS_ERROR = 2;

describe('OtlpCollectorFake', () => {
  let collector: OtlpCollectorFake;
  let baseUrl: string;

  beforeEach(async () => {
    collector = new OtlpCollectorFake();
    baseUrl = await collector.start();
  });

  afterEach(async () => {
    await collector.stop();
  });

  const postTraces = (body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> =>
    fetch(`${baseUrl}/v1/traces`, { method: 'POST', headers, body });

  it('receives parent and child spans from the real OTLP/HTTP exporter with their link and service name', async () => {
    const emitted = await emitSpansWithRealExporter(`${baseUrl}/v1/traces`);

    const spans = await collector.waitForSpans((received) => received.length >= 2);

    const byName = (name: string): CollectedSpan => spans.find((span) => span.name === name)!;
    const parentSpan = byName('POST /api/apps/:id/messages');
    const childSpan = byName('ai.completion.create.v1');
    expect(parentSpan).toMatchObject({
      traceId: emitted.traceId,
      spanId: emitted.parentSpanId,
      serviceName: 'orchestrator',
      kind: OTLP_SPAN_KIND_SERVER,
      attributes: { 'http.method': 'POST', 'http.status_code': 202, 'app.retry': false, 'run.cost': 0.25, 'run.tags': ['a', 'b'] },
    });
    expect(parentSpan.parentSpanId).toBeUndefined();
    expect(childSpan).toMatchObject({
      traceId: emitted.traceId,
      spanId: emitted.childSpanId,
      parentSpanId: emitted.parentSpanId,
      serviceName: 'orchestrator',
      kind: OTLP_SPAN_KIND_CLIENT,
      status: { code: OTLP_STATUS_ERROR, message: 'overloaded' },
    });
    expect(parentSpan.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(childSpan.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(BigInt(parentSpan.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(parentSpan.startTimeUnixNano));
    expect(BigInt(parentSpan.startTimeUnixNano)).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
  });

  it('normalises base64 and upper-case hex ids to lower-case hex and decodes every attribute type', async () => {
    const traceHex = '5b8efff798038103d269b633813fc60c';
    const spanHex = 'eee19b7ec3c1b174';
    const parentHex = 'eee19b7ec3c1b173';
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
          scopeSpans: [
            {
              scope: { name: 'manual' },
              spans: [
                {
                  traceId: Buffer.from(traceHex, 'hex').toString('base64'),
                  spanId: Buffer.from(spanHex, 'hex').toString('base64'),
                  parentSpanId: parentHex.toUpperCase(),
                  name: 'GET /health',
                  kind: 2,
                  startTimeUnixNano: { low: 1, high: 1 },
                  endTimeUnixNano: 1_700_000_000_000_000_000,
                  attributes: [
                    { key: 'big', value: { intValue: '9007199254740993' } },
                    { key: 'small', value: { intValue: '42' } },
                    { key: 'ratio', value: { doubleValue: 0.5 } },
                    { key: 'nested', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    };

    const response = await postTraces(JSON.stringify(body));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(collector.spans()).toEqual([
      {
        traceId: traceHex,
        spanId: spanHex,
        parentSpanId: parentHex,
        name: 'GET /health',
        kind: 2,
        serviceName: 'gateway',
        startTimeUnixNano: '4294967297',
        endTimeUnixNano: '1700000000000000000',
        attributes: { big: '9007199254740993', small: 42, ratio: 0.5, nested: { k: true } },
      },
    ]);
  });

  it('accepts gzip-compressed exports', async () => {
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'zipped' }] }] }] };

    const response = await postTraces(gzipSync(JSON.stringify(body)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });

    expect(response.status).toBe(200);
    expect(collector.spans()).toMatchObject([{ name: 'zipped', serviceName: 'unknown_service' }]);
  });

  it('answers protobuf exports with 415 and says to use JSON', async () => {
    const response = await postTraces(Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });

    expect(response.status).toBe(415);
    expect(((await response.json()) as { message: string }).message).toMatch(/OTLP\/JSON only.*application\/x-protobuf/);
    expect(collector.spans()).toHaveLength(0);
  });

  it('answers malformed exports with 400 and keeps nothing', async () => {
    const notJson = await postTraces('{oops');
    const badIds = await postTraces(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'no ids' }] }] }] }));

    expect(notJson.status).toBe(400);
    expect(badIds.status).toBe(400);
    expect(((await badIds.json()) as { message: string }).message).toContain('no ids');
    expect(collector.spans()).toHaveLength(0);
  });

  it('waitForSpans resolves when a later export satisfies the predicate', async () => {
    const waiting = collector.waitForSpans((spans) => spans.some((span) => span.name === 'late'), 2000);

    await postTraces(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'late' }] }] }] }));

    await expect(waiting).resolves.toMatchObject([{ name: 'late' }]);
  });

  it('waitForSpans rejects after the timeout, naming the spans that did arrive', async () => {
    await postTraces(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'only-one' }] }] }] }));

    await expect(collector.waitForSpans((spans) => spans.length >= 2, 100)).rejects.toThrow(/received 1: unknown_service\/only-one/);
  });

  it('reset() forgets collected spans', async () => {
    await postTraces(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '1'.repeat(32), spanId: '2'.repeat(16), name: 'x' }] }] }] }));
    expect(collector.spans()).toHaveLength(1);

    collector.reset();

    expect(collector.spans()).toHaveLength(0);
  });

  it('serves /health and refuses other paths', async () => {
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/v1/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${baseUrl}/v1/traces`)).status).toBe(405);
  });
});

describe('normaliseId', () => {
  it('treats empty and all-zero ids as absent', () => {
    expect(normaliseId('', 8)).toBeUndefined();
    expect(normaliseId('0000000000000000', 8)).toBeUndefined();
    expect(normaliseId('AAAAAAAAAAA=', 8)).toBeUndefined();
  });
});

// The exporter loads node:http with a dynamic import(), which Jest's CommonJS sandbox refuses without
// --experimental-vm-modules. So the real SDK and exporter run in a plain Node process, as in a service.
const EMIT_SPANS_SCRIPT = `
const { context, SpanKind, SpanStatusCode, trace } = require('@opentelemetry/api');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');

async function main() {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'orchestrator' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: process.env.TRACES_URL }))],
  });
  const tracer = provider.getTracer('otlp-collector-fake.spec');
  const parent = tracer.startSpan('POST /api/apps/:id/messages', {
    kind: SpanKind.SERVER,
    attributes: { 'http.method': 'POST', 'http.status_code': 202, 'app.retry': false, 'run.cost': 0.25, 'run.tags': ['a', 'b'] },
  });
  const child = tracer.startSpan('ai.completion.create.v1', { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), parent));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'overloaded' });
  child.end();
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
  process.stdout.write(JSON.stringify({
    traceId: parent.spanContext().traceId,
    parentSpanId: parent.spanContext().spanId,
    childSpanId: child.spanContext().spanId,
  }));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

async function emitSpansWithRealExporter(tracesUrl: string): Promise<{ traceId: string; parentSpanId: string; childSpanId: string }> {
  const repositoryRoot = resolve(__dirname, '..', '..', '..', '..');
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', EMIT_SPANS_SCRIPT], {
    cwd: repositoryRoot,
    env: { ...process.env, TRACES_URL: tracesUrl },
    timeout: 20_000,
  });
  return JSON.parse(stdout);
}

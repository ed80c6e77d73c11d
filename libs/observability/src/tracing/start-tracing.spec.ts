import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { getTracer } from './get-tracer';
import { startTracing, tracesExported, tracesUrl } from './start-tracing';

describe('startTracing without an endpoint', () => {
  it('hands out a tracer before start whose spans become real once started', async () => {
    const early = getTracer();
    expect(tracesExported()).toBe(false);
    const handle = startTracing({ service: 'tracing-spec', version: '1.2.3' });
    // Spans get real ids, but none leaves the process.
    expect(handle.exporting).toBe(false);
    expect(tracesExported()).toBe(false);

    expect(startTracing({ service: 'other' })).toBe(handle);

    const span = early.startSpan('early');
    const { traceId, spanId } = span.spanContext();
    span.end();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(traceId).not.toBe('0'.repeat(32));
    expect(span.isRecording()).toBe(false); // ended

    await expect(handle.forceFlush()).resolves.toBeUndefined();
  });

  it('propagates the active span through awaits and continues an incoming W3C trace', async () => {
    const handle = startTracing({ service: 'tracing-spec' });
    const incoming = propagation.extract(ROOT_CONTEXT, {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      baggage: 'tenant=team-1',
    });

    const seen = await context.with(incoming, () =>
      handle.tracer.startActiveSpan('handle', async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        const active = trace.getActiveSpan()?.spanContext();
        const outgoing: Record<string, string> = {};
        propagation.inject(context.active(), outgoing);
        span.end();
        return { active, outgoing, own: span.spanContext() };
      }),
    );

    expect(seen.active?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(seen.active?.spanId).toBe(seen.own.spanId);
    expect(seen.outgoing['traceparent']).toBe(`00-0af7651916cd43dd8448eb211c80319c-${seen.own.spanId}-01`);
    expect(seen.outgoing['baggage']).toBe('tenant=team-1');
  });

  it('builds the OTLP traces URL from the endpoint', () => {
    expect(tracesUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
  });
});

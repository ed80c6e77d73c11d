import { trace } from '@opentelemetry/api';
import { preloadTracing } from './preload';

describe('preloadTracing', () => {
  it('leaves an endpoint the config will refuse to the config: no SDK is started for it', () => {
    preloadTracing('preload-spec', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    preloadTracing('preload-spec', { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:21' });
    // Without a registered provider the API hands out its no-op proxy, whose spans are invalid.
    const span = trace.getTracer('t').startSpan('probe');
    expect(span.spanContext().traceId).toBe('00000000000000000000000000000000');
    span.end();
  });

  it('starts the SDK without an endpoint: spans get real ids for logs and propagation', () => {
    preloadTracing('preload-spec', {});
    const span = trace.getTracer('t').startSpan('probe');
    expect(span.spanContext().traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    span.end();
  });
});

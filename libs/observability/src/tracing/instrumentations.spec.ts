import { clientInstrumentations } from './instrumentations';

// Which client calls become spans: SQL and Redis only when the spans go somewhere; outgoing HTTP
// always, since it carries the trace on to the server it calls.
describe('clientInstrumentations', () => {
  const names = (exporting: boolean) => clientInstrumentations({ exporting }).map((i) => i.instrumentationName);

  it('traces SQL, Redis and outgoing HTTP in a service that exports its spans', () => {
    expect(names(true)).toEqual([
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/instrumentation-ioredis',
      '@opentelemetry/instrumentation-undici',
      '@opentelemetry/instrumentation-http',
    ]);
  });

  it('leaves SQL and Redis alone in a service that exports nothing, and still passes the trace on over HTTP', () => {
    expect(names(false)).toEqual(['@opentelemetry/instrumentation-undici', '@opentelemetry/instrumentation-http']);
  });
});

import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { Instrumentation } from '@opentelemetry/instrumentation';

// Client spans only, and only inside a trace: a poller's or a health probe's query on its own is
// not worth a root span. Incoming HTTP is traced by instrumentFastify (with the route), not here.
// SQL and Redis spans are leaves (they carry no context onward), so a service that exports no
// spans skips them: nobody would ever read them, and they were most of a query's client-side CPU
// beyond the driver. Outgoing HTTP stays instrumented either way: it passes the trace on.
export function clientInstrumentations(options: { exporting: boolean }): Instrumentation[] {
  const http = [
    new UndiciInstrumentation({ requireParentforSpans: true }),
    new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, requireParentforOutgoingSpans: true }),
  ];
  if (!options.exporting) return http;
  return [new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }), new IORedisInstrumentation({ requireParentSpan: true }), ...http];
}

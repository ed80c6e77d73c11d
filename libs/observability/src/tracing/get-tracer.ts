import { trace, type Tracer } from '@opentelemetry/api';

// The instrumentation scope; the service itself is named by the resource (service.name).
export const TRACER_NAME = '@overskill/observability';

/** The service tracer. Before startTracing it is the API's proxy, which starts recording once the SDK is up. */
export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

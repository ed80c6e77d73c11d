import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import { requestContext } from '../context/request-context';
import { stripUrlCredentials } from '../redaction/strip-url-credentials';
import { serviceInstanceId } from '../service-instance';
import { REDACTED, REDACT_PATHS } from './redact-paths';

export interface CreateLoggerOptions {
  service: string;
  level?: string;
  destination?: pino.DestinationStream;
}

/**
 * JSON lines to stdout with the operations guide's field names — timestamp, level, component,
 * message, correlationId (and runId, taskId, duration where the caller has them) — plus the
 * service, its instance and, when present, the trace and tenant ids.
 */
export function createLogger(opts: CreateLoggerOptions): pino.Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service, instance: serviceInstanceId },
    messageKey: 'message',
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label.toUpperCase() }) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: serializeError },
    // The component defaults to the service; a line's own `component` (a Nest context) wins.
    mixin: () => currentContextFields(opts.service),
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

function currentContextFields(service: string): Record<string, string> {
  const fields: Record<string, string> = { component: service };
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    fields['traceId'] = spanContext.traceId;
    fields['spanId'] = spanContext.spanId;
  }
  const request = requestContext.get();
  if (request) {
    fields['correlationId'] = request.correlationId;
    if (request.tenantId) fields['tenantId'] = request.tenantId;
  }
  return fields;
}

// Driver errors love to quote the connection string; keep the error, drop the credentials.
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  // Not error-like: pino hands the caller's own value back, which must not be mutated.
  if (serialized === error || !serialized || typeof serialized !== 'object') return serialized;
  const record = serialized as Record<string, unknown>;
  for (const key of ['message', 'stack'] as const) {
    const value = record[key];
    if (typeof value === 'string') record[key] = stripUrlCredentials(value);
  }
  return record;
}

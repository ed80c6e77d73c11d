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

/** JSON lines to stdout, each carrying service, instance and — when present — trace and request ids. */
export function createLogger(opts: CreateLoggerOptions): pino.Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service, instance: serviceInstanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: serializeError },
    mixin: currentContextFields,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

function currentContextFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    fields['trace_id'] = spanContext.traceId;
    fields['span_id'] = spanContext.spanId;
  }
  const request = requestContext.get();
  if (request) {
    fields['correlation_id'] = request.correlationId;
    if (request.tenantId) fields['tenant_id'] = request.tenantId;
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

import type { Tracer } from '@opentelemetry/api';
import { CompositePropagator, getNumberFromEnv, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { serviceInstanceId } from '../service-instance';
import { getTracer } from './get-tracer';
import { clientInstrumentations } from './instrumentations';

export interface TracingHandle {
  tracer: Tracer;
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

export interface StartTracingOptions {
  service: string;
  version?: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); unset = spans are created but not exported. */
  endpoint?: string;
  /** Sends spans here instead of OTLP (tests; another backend). Takes precedence over `endpoint`. */
  spanExporter?: SpanExporter;
}

// The SDK registers process-wide globals that cannot be registered twice.
let started: TracingHandle | undefined;

/** Starts the OpenTelemetry SDK once per process; later calls return the same handle. */
export function startTracing(opts: StartTracingOptions): TracingHandle {
  if (started) return started;

  const processor = createSpanProcessor(opts);
  const exporting = !(processor instanceof NoopSpanProcessor);
  const sdk = new NodeSDK({
    // Nothing to export to: traces this service starts are not recorded (their spans still get
    // real ids for logs and propagation, at a fraction of the cost), while a sampled trace
    // arriving from a caller is still recorded and passed on sampled, so one service without an
    // exporter never cuts a trace in two for the services after it.
    ...(exporting ? {} : { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }),
    autoDetectResources: false,
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: opts.service,
          [ATTR_SERVICE_INSTANCE_ID]: serviceInstanceId,
          ...(opts.version ? { [ATTR_SERVICE_VERSION]: opts.version } : {}),
        }),
      ),
    // contextManager is left to the SDK: its default is the AsyncLocalStorage context manager.
    textMapPropagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
    spanProcessors: [processor],
    // Empty lists, not undefined: otherwise the SDK adds OTLP metric and log exporters from env defaults.
    metricReaders: [],
    logRecordProcessors: [],
    // Patched when their modules load: the service's entry loads this file first (preload.ts).
    instrumentations: clientInstrumentations(),
  });
  sdk.start();

  started = {
    tracer: getTracer(),
    shutdown: () => sdk.shutdown(),
    forceFlush: () => processor.forceFlush(),
  };
  return started;
}

// With no endpoint a processor must still exist: without one the SDK registers no tracer provider
// and every span would be the API's no-op span with all-zero ids.
function createSpanProcessor(opts: StartTracingOptions): SpanProcessor {
  const exporter = opts.spanExporter ?? (opts.endpoint ? new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) }) : undefined);
  if (!exporter) return new NoopSpanProcessor();
  // A processor we build ourselves does not read OTEL_BSP_*; honour them here.
  return new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: positiveNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: positiveNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
    maxQueueSize: positiveNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: positiveNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  });
}

export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function positiveNumberFromEnv(name: string): number | undefined {
  const value = getNumberFromEnv(name);
  return value !== undefined && value > 0 ? value : undefined;
}

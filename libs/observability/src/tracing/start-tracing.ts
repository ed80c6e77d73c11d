import { diag, DiagConsoleLogger, type Tracer } from '@opentelemetry/api';
import {
  CompositePropagator,
  diagLogLevelFromString,
  getNumberFromEnv,
  getStringFromEnv,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { serviceInstanceId } from '../service-instance';
import { getTracer } from './get-tracer';
import { clientInstrumentations } from './instrumentations';
import { SharedContextManager } from './shared-context-manager';

export interface TracingHandle {
  tracer: Tracer;
  // Whether the spans this process records go anywhere (an exporter is configured).
  exporting: boolean;
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

  // The tracer provider, propagators and instrumentations set up directly rather than through
  // NodeSDK: its module graph (metrics and logs SDKs, gRPC exporters, the YAML configuration
  // loader) cost every service 150-250 ms and ~25 MB at start for parts no service uses.
  const logLevel = getStringFromEnv('OTEL_LOG_LEVEL');
  if (logLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(logLevel) });
  const processor = createSpanProcessor(opts);
  const exporting = !(processor instanceof NoopSpanProcessor);
  // Patched when their modules load: the service's entry loads this file first (preload.ts).
  registerInstrumentations({ instrumentations: clientInstrumentations({ exporting }) });
  const provider = new NodeTracerProvider({
    // Nothing to export to: traces this service starts are not recorded (their spans still get
    // real ids for logs and propagation, at a fraction of the cost), while a sampled trace
    // arriving from a caller is still recorded and passed on sampled, so one service without an
    // exporter never cuts a trace in two for the services after it. With an exporter the sampler
    // is the SDK's default (OTEL_TRACES_SAMPLER, else parent-based always-on).
    ...(exporting ? {} : { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }),
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: opts.service,
          [ATTR_SERVICE_INSTANCE_ID]: serviceInstanceId,
          ...(opts.version ? { [ATTR_SERVICE_VERSION]: opts.version } : {}),
        }),
      ),
    spanProcessors: [processor],
  });
  // The AsyncLocalStorage context manager on the request context's storage, and W3C trace context + baggage.
  provider.register({
    contextManager: new SharedContextManager(),
    propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  });

  started = {
    tracer: getTracer(),
    exporting,
    shutdown: () => provider.shutdown(),
    forceFlush: () => processor.forceFlush(),
  };
  return started;
}

/** Whether this process exports spans: false before startTracing, and without an exporter. */
export function tracesExported(): boolean {
  return started?.exporting ?? false;
}

// With no endpoint nothing is exported, but the provider is still registered: spans get real ids
// for logs and propagation instead of the API's no-op span with all-zero ids.
function createSpanProcessor(opts: StartTracingOptions): SpanProcessor {
  const exporter = opts.spanExporter ?? (opts.endpoint ? otlpExporter(tracesUrl(opts.endpoint)) : undefined);
  if (!exporter) return new NoopSpanProcessor();
  // A processor we build ourselves does not read OTEL_BSP_*; honour them here.
  return new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: positiveNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: positiveNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
    maxQueueSize: positiveNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: positiveNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
  });
}

// Loaded only when there is an endpoint: the OTLP exporter and its transformer are ~50 ms of
// module loading that a service without a collector never uses.
function otlpExporter(url: string): SpanExporter {
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  return new OTLPTraceExporter({ url });
}

export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function positiveNumberFromEnv(name: string): number | undefined {
  const value = getNumberFromEnv(name);
  return value !== undefined && value > 0 ? value : undefined;
}

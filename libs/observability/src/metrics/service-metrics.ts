import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  natsRequestDuration: Histogram<'subject' | 'outcome'>;
  natsHandlerDuration: Histogram<'subject' | 'outcome'>;
  dependencyUp: Gauge<'dependency'>;
}

// HTTP: a health probe (~1 ms) up to a slow upstream call (10 s).
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// NATS request-reply on loopback answers in ~0.1 ms; an AI completion may take 10 s.
const NATS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Metric names may be registered once per registry: a second call for the same service reuses it.
const byService = new Map<string, ServiceMetrics>();

/** The service's registry (default label `service`, Node/process metrics) and the platform's shared metrics. */
export function createServiceMetrics(service: string): ServiceMetrics {
  const existing = byService.get(service);
  if (existing) return existing;

  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const metrics: ServiceMetrics = {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers: [registry],
    }),
    natsRequestDuration: new Histogram({
      name: 'nats_request_duration_seconds',
      help: 'NATS request-reply duration seen by the caller, by subject and outcome.',
      labelNames: ['subject', 'outcome'],
      buckets: NATS_BUCKETS,
      registers: [registry],
    }),
    natsHandlerDuration: new Histogram({
      name: 'nats_handler_duration_seconds',
      help: 'NATS message handler duration seen by the server, by subject and outcome.',
      labelNames: ['subject', 'outcome'],
      buckets: NATS_BUCKETS,
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'overskill_dependency_up',
      help: 'Whether a dependency answered its last health check (1) or not (0).',
      labelNames: ['dependency'],
      registers: [registry],
    }),
  };
  byService.set(service, metrics);
  return metrics;
}

import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

// One set of model-call metrics for every ai-router feature (completions, images): a metric name
// may be registered only once per registry.
@Injectable()
export class AiMetrics {
  readonly requests: Counter<'model' | 'outcome'>;
  readonly duration: Histogram<'model' | 'outcome'>;
  readonly tokens: Counter<'model' | 'team' | 'kind'>;
  readonly cost: Counter<'model' | 'team'>;
  readonly errors: Counter<'model' | 'kind'>;
  readonly attempts: Counter<'model'>;
  readonly fallbacks: Counter<'from' | 'to'>;
  readonly breakerState: Gauge<'model'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly refusals: Counter<'reason' | 'scope'>;
  readonly usageEventFailures: Counter;

  constructor(@Inject(SERVICE_METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.requests = new Counter({ name: 'ai_requests_total', help: 'Model calls by model and outcome', labelNames: ['model', 'outcome'], registers });
    this.duration = new Histogram({
      name: 'ai_request_duration_seconds',
      help: 'Model call latency',
      labelNames: ['model', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    });
    this.tokens = new Counter({
      name: 'ai_tokens_total',
      help: 'Tokens by model, team and kind (input, output, cache_read, cache_write)',
      labelNames: ['model', 'team', 'kind'],
      registers,
    });
    this.cost = new Counter({
      name: 'ai_cost_usd_total',
      help: 'Model spend in USD by model and team, from the price table',
      labelNames: ['model', 'team'],
      registers,
    });
    this.errors = new Counter({
      name: 'ai_errors_total',
      help: 'Failed provider calls by model and kind (overloaded, rate_limited, server, timeout, connection, context_window, auth, unknown_model, invalid)',
      labelNames: ['model', 'kind'],
      registers,
    });
    this.attempts = new Counter({
      name: 'ai_provider_attempts_total',
      help: 'HTTP attempts to providers, SDK retries included',
      labelNames: ['model'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'ai_fallbacks_total',
      help: 'Requests answered by another alias than the one asked for',
      labelNames: ['from', 'to'],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'ai_circuit_breaker_state',
      help: 'Circuit breaker per model: 0 closed, 1 half-open, 2 open',
      labelNames: ['model'],
      registers,
    });
    // Named as the alert rules and dashboards read them (hit rate = hits / (hits + misses)).
    this.cacheHits = new Counter({ name: 'ai_cache_hits_total', help: 'Response cache lookups answered from the cache', registers });
    this.cacheMisses = new Counter({ name: 'ai_cache_misses_total', help: 'Response cache lookups that went to a model', registers });
    this.refusals = new Counter({
      name: 'ai_refusals_total',
      help: 'Requests refused before any provider call, by reason (rate_limit, budget) and scope (team, key, run)',
      labelNames: ['reason', 'scope'],
      registers,
    });
    this.usageEventFailures = new Counter({ name: 'ai_usage_event_failures_total', help: 'Usage events that could not be published', registers });
  }

  /** Counts and times one model call under `model`, with outcome `ok` or the error's code. */
  async track<T>(model: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await call();
    } catch (err) {
      outcome =
        err instanceof AppError ? err.code : typeof (err as { kind?: unknown })?.kind === 'string' ? (err as { kind: string }).kind : ErrorCode.INTERNAL;
      throw err;
    } finally {
      this.requests.inc({ model, outcome });
      this.duration.observe({ model, outcome }, (performance.now() - started) / 1000);
    }
  }
}

@Global()
@Module({ providers: [AiMetrics], exports: [AiMetrics] })
export class AiMetricsModule {}

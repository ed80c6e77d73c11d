import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter, Histogram } from 'prom-client';

// One set of model-call metrics for every ai-router feature (completions, images): a metric name
// may be registered only once per registry.
@Injectable()
export class AiMetrics {
  readonly requests: Counter<'model' | 'outcome'>;
  readonly duration: Histogram<'model' | 'outcome'>;
  readonly tokens: Counter<'model' | 'team' | 'kind'>;

  constructor(@Inject(SERVICE_METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.requests = new Counter({ name: 'ai_requests_total', help: 'Model calls by model and outcome', labelNames: ['model', 'outcome'], registers });
    this.duration = new Histogram({ name: 'ai_request_duration_seconds', help: 'Model call latency', labelNames: ['model', 'outcome'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120], registers });
    this.tokens = new Counter({ name: 'ai_tokens_total', help: 'Tokens by model, team and kind', labelNames: ['model', 'team', 'kind'], registers });
  }

  /** Counts and times one model call under `model`, with outcome `ok` or the error's code. */
  async track<T>(model: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await call();
    } catch (err) {
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
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

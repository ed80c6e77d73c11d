import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter, Histogram } from 'prom-client';

// git-service's own series; outcome is `ok` or the error code.
@Injectable()
export class GitMetrics {
  readonly operations: Counter<'operation' | 'outcome'>;
  readonly duration: Histogram<'operation' | 'outcome'>;
  readonly staleLocksRemoved: Counter<never>;

  constructor(@Inject(SERVICE_METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.operations = new Counter({ name: 'git_operations_total', help: 'Git operations by outcome', labelNames: ['operation', 'outcome'], registers });
    // A status answers in ~5 ms; a clone of a large repository may take a minute.
    this.duration = new Histogram({
      name: 'git_operation_duration_seconds',
      help: 'Git operation time, including the wait for the app lock',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
      registers,
    });
    this.staleLocksRemoved = new Counter({
      name: 'git_stale_locks_removed_total',
      help: 'Git lock files left by a crashed git process and removed',
      registers,
    });
  }
}

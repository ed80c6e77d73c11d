import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

// The backup service's series: freshness per kind, proof by restore, cost, failures.
@Injectable()
export class BackupMetrics {
  readonly lastSuccess: Gauge<'kind'>;
  readonly lastVerifiedRestore: Gauge<never>;
  readonly duration: Histogram<'kind' | 'outcome'>;
  readonly bytes: Gauge<'kind'>;
  readonly failures: Counter<'kind'>;
  readonly drillFailures: Counter<never>;
  readonly drillRto: Gauge<never>;

  constructor(@Inject(SERVICE_METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.lastSuccess = new Gauge({
      name: 'backup_last_success_timestamp_seconds',
      help: 'When the newest complete archive of each kind was written',
      labelNames: ['kind'],
      registers,
    });
    this.lastVerifiedRestore = new Gauge({
      name: 'backup_last_verified_restore_timestamp_seconds',
      help: 'When a drill last restored a backup and found it equal to its manifest',
      registers,
    });
    this.duration = new Histogram({
      name: 'backup_duration_seconds',
      help: 'Time to write one archive',
      labelNames: ['kind', 'outcome'],
      buckets: [1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.bytes = new Gauge({ name: 'backup_size_bytes', help: 'Size of the newest complete archive of each kind', labelNames: ['kind'], registers });
    this.failures = new Counter({ name: 'backup_failures_total', help: 'Backups that did not produce an archive', labelNames: ['kind'], registers });
    this.drillFailures = new Counter({
      name: 'backup_drill_failures_total',
      help: 'Restore drills whose result differed from the manifest or failed',
      registers,
    });
    this.drillRto = new Gauge({ name: 'backup_drill_restore_seconds', help: 'Measured restore time (RTO) of the newest drill', registers });
  }
}

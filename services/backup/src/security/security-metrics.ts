import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Gauge } from 'prom-client';

// The newest audit's findings by severity and kind, and when an audit last finished.
@Injectable()
export class SecurityMetrics {
  readonly findings: Gauge<'severity' | 'kind'>;
  readonly lastAudit: Gauge<never>;

  constructor(@Inject(SERVICE_METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.findings = new Gauge({ name: 'security_findings', help: 'Findings of the newest security audit', labelNames: ['severity', 'kind'], registers });
    this.lastAudit = new Gauge({ name: 'security_audit_last_run_timestamp_seconds', help: 'When the newest security audit finished', registers });
  }

  record(findings: { severity: string; kind: string }[], finishedAt: Date): void {
    this.findings.reset();
    for (const f of findings) this.findings.inc({ severity: f.severity, kind: f.kind });
    this.lastAudit.set(finishedAt.getTime() / 1000);
  }
}

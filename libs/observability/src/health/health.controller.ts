import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ObservabilityModuleOptions } from '../nest/observability-module-options';
import { OBSERVABILITY_OPTIONS } from '../nest/observability.tokens';
import type { HealthReport } from './health-indicator';
import { HealthRegistry } from './health-registry';
import { runHealthChecks } from './run-health-checks';
import { uptimeSeconds } from './uptime-seconds';

// The part of a Fastify (or Express) reply these routes touch.
interface ProbeReply {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

export interface LivenessReport {
  status: 'ok';
  service: string;
  uptimeSeconds: number;
}

/** /health/live, /health/ready and /metrics, the same on every service. */
@Controller()
export class HealthController {
  constructor(
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ObservabilityModuleOptions,
    private readonly registry: HealthRegistry,
  ) {}

  @Get('health/live')
  live(): LivenessReport {
    return { status: 'ok', service: this.options.service, uptimeSeconds: uptimeSeconds() };
  }

  @Get('health/ready')
  async ready(@Res({ passthrough: true }) reply: ProbeReply): Promise<HealthReport> {
    const report = await this.check();
    // Answered here rather than thrown: a global exception filter would reshape the report.
    if (report.status !== 'ok') reply.status(503);
    reply.header('cache-control', 'no-store');
    return report;
  }

  private check(): Promise<HealthReport> {
    return runHealthChecks(this.options.service, this.registry.list(), { timeoutMs: this.options.readinessTimeoutMs, metrics: this.options.metrics });
  }

  @Get('metrics')
  async metrics(@Res({ passthrough: true }) reply: ProbeReply): Promise<string> {
    // The dependency gauge is as fresh as the scrape: the alert rules read it, and not every
    // deployment probes /health/ready (compose checks liveness only).
    await this.check();
    const { registry } = this.options.metrics;
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  }
}

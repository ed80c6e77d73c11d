import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_NAMES } from '@overskill/contracts';
import { HealthRegistry, runHealthChecks, SERVICE_METRICS, type HealthIndicator, type HealthReport, type ServiceMetrics } from '@overskill/observability';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { HealthPingsRepository } from './health-pings.repository';

// The gateway's view of the whole platform: its own dependencies plus a ping of every other
// service over NATS, each with its latency.
@Injectable()
export class PlatformHealthService {
  constructor(
    private readonly registry: HealthRegistry,
    private readonly pings: HealthPingsRepository,
    @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  summary(): Promise<HealthReport> {
    return runHealthChecks('gateway', this.registry.list(), { metrics: this.metrics });
  }

  detailed(): Promise<HealthReport> {
    const others: HealthIndicator[] = SERVICE_NAMES.filter((s) => s !== 'gateway').map((service) => ({
      name: service,
      check: async () => {
        const pong = await this.pings.ping(service);
        const down = pong.dependencies.filter((d) => !d.up).map((d) => `${d.name}: ${d.error || 'down'}`);
        if (!pong.ready) throw new Error(`not ready (${down.join('; ') || 'no detail'})`);
        return { instance: pong.instanceId, version: pong.version, uptimeSeconds: Math.round(pong.uptimeSeconds) };
      },
    }));
    return runHealthChecks('gateway', [...this.registry.list(), ...others], { metrics: this.metrics, timeoutMs: this.env.HEALTH_PING_TIMEOUT_MS + 500 });
  }
}

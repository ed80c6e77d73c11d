import { Controller, Inject, type Type } from '@nestjs/common';
import { HealthPing, type ServiceName } from '@overskill/contracts';
import { HealthRegistry, runHealthChecks, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import { RpcHandler, type RpcReply } from '../rpc/rpc-handler.decorator';

const instanceId = process.env.SERVICE_INSTANCE_ID ?? randomUUID();
const version = process.env.SERVICE_VERSION ?? '0.1.0';

// Every service answers `<prefix>.health.ping.v1` so the gateway can report it with latency.
export function createHealthPingController(service: ServiceName): Type<unknown> {
  const def = HealthPing[service];

  @Controller()
  class HealthPingController {
    constructor(
      private readonly registry: HealthRegistry,
      @Inject(SERVICE_METRICS) private readonly metrics: ServiceMetrics,
    ) {}

    @RpcHandler(def)
    async ping(): Promise<RpcReply<typeof def>> {
      const report = await runHealthChecks(service, this.registry.list(), { metrics: this.metrics });
      return {
        service,
        version,
        instanceId,
        uptimeSeconds: process.uptime(),
        ready: report.status === 'ok',
        dependencies: Object.entries(report.checks).map(([name, check]) => ({
          name,
          up: check.status === 'up',
          latencyMs: check.latencyMs,
          error: check.error ?? '',
        })),
      };
    }
  }
  return HealthPingController;
}

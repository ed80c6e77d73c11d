import type pino from 'pino';
import type { ServiceMetrics } from '../metrics/service-metrics';

export interface ObservabilityModuleOptions {
  service: string;
  logger: pino.Logger;
  metrics: ServiceMetrics;
  /** Registers /health/live, /health/ready and /metrics (default true). */
  healthRoutes?: boolean;
  /** Per-check timeout for /health/ready (default 2000 ms). */
  readinessTimeoutMs?: number;
}

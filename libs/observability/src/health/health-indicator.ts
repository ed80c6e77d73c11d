/** One dependency's check: resolve (optionally with details) when up, throw when down. */
export interface HealthIndicator {
  name: string;
  check(): Promise<Record<string, unknown> | void>;
}

export interface HealthCheckResult {
  status: 'up' | 'down';
  latencyMs: number;
  error?: string;
  details?: Record<string, unknown>;
}

export interface HealthReport {
  status: 'ok' | 'error';
  service: string;
  uptimeSeconds: number;
  checks: Record<string, HealthCheckResult>;
}

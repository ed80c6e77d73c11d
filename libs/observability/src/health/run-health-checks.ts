import type { ServiceMetrics } from '../metrics/service-metrics';
import { stripUrlCredentials } from '../redaction/strip-url-credentials';
import type { HealthCheckResult, HealthIndicator, HealthReport } from './health-indicator';
import { uptimeSeconds } from './uptime-seconds';

export interface RunHealthChecksOptions {
  timeoutMs?: number;
  metrics?: ServiceMetrics;
}

const DEFAULT_TIMEOUT_MS = 2000;
// A probe answer is read by humans and load balancers; a driver's multi-line dump helps neither.
const MAX_ERROR_CHARS = 200;

class HealthCheckTimeoutError extends Error {}

/** Runs every check in parallel, each bounded by a timeout; the report is `ok` only if all are up. */
export async function runHealthChecks(service: string, indicators: HealthIndicator[], opts: RunHealthChecksOptions = {}): Promise<HealthReport> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const results = await Promise.all(indicators.map((indicator) => runOne(indicator, timeoutMs)));

  const checks: Record<string, HealthCheckResult> = {};
  indicators.forEach((indicator, index) => {
    const result = results[index];
    checks[indicator.name] = result;
    opts.metrics?.dependencyUp.set({ dependency: indicator.name }, result.status === 'up' ? 1 : 0);
  });

  const allUp = results.every((result) => result.status === 'up');
  return { status: allUp ? 'ok' : 'error', service, uptimeSeconds: uptimeSeconds(), checks };
}

async function runOne(indicator: HealthIndicator, timeoutMs: number): Promise<HealthCheckResult> {
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HealthCheckTimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // The call itself sits inside the try: an indicator that throws synchronously is "down", not a crash.
    const details = await Promise.race([Promise.resolve().then(() => indicator.check()), timeout]);
    return details ? { status: 'up', latencyMs: elapsed(), details } : { status: 'up', latencyMs: elapsed() };
  } catch (error) {
    return { status: 'down', latencyMs: elapsed(), error: shortErrorMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}

function shortErrorMessage(error: unknown): string {
  const raw = describeError(error);
  const firstLine = stripUrlCredentials(raw).split('\n')[0].trim() || 'check failed';
  return firstLine.length > MAX_ERROR_CHARS ? `${firstLine.slice(0, MAX_ERROR_CHARS)}…` : firstLine;
}

// Node's connect errors to a dual-stack host are AggregateErrors with an empty message; the cause is inside.
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  return (error as NodeJS.ErrnoException).code ?? error.name;
}

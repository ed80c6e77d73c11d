export { ConfigError } from './config/config-error';
export { loadConfig } from './config/load-config';
export { env, LOG_LEVELS, type LogLevel } from './config/env-fields';
export { baseServiceEnv, type BaseServiceEnv } from './config/base-service-env';

export { contextSlot, requestContext, type RequestContextData } from './context/request-context';
export { newCorrelationId } from './context/correlation-id';

export { createLogger, type CreateLoggerOptions } from './logging/create-logger';
export { PinoNestLogger } from './logging/pino-nest-logger';
export { sqlLogging } from './logging/sql-logging';
export { findSecrets, secretFingerprint, SECRET_MARKERS, type SecretMatch } from './redaction/secret-patterns';

export { startTracing, tracesExported, type StartTracingOptions, type TracingHandle } from './tracing/start-tracing';
export { getTracer } from './tracing/get-tracer';

export { createServiceMetrics, type ServiceMetrics } from './metrics/service-metrics';

export type { HealthCheckResult, HealthIndicator, HealthReport } from './health/health-indicator';
export { runHealthChecks, type RunHealthChecksOptions } from './health/run-health-checks';
export { HealthRegistry } from './health/health-registry';
export { HealthController } from './health/health.controller';

export { LOGGER, SERVICE_METRICS } from './nest/observability.tokens';
export { ObservabilityModule } from './nest/observability.module';
export type { ObservabilityModuleOptions } from './nest/observability-module-options';

export { CORRELATION_ID_HEADER, instrumentFastify, type InstrumentFastifyOptions } from './http/instrument-fastify';
export { serviceInstanceId } from './service-instance';

// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { ErrorCode } from '@overskill/contracts';
import { loadConfig, newCorrelationId } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import type { FastifyReply } from 'fastify';
import { AuditService } from './audit/audit.service';
import { gatewayEnvSchema } from './config';
import { registerConsole } from './console/console-static';
import { HttpErrorFilter, noteErrorCode, RETRY_AFTER_SECONDS, toHttpError } from './errors/http-error.filter';
import { GatewayModule } from './gateway.module';
import { DrainController } from './http/drain';
import { registerEdge } from './http/edge';
import { RateLimiter } from './http/rate-limiter';
import { trustProxy } from './http/trust-proxy';
import { ApiKeysService } from './keys/api-keys.service';

runService(() => {
  const env = loadConfig(gatewayEnvSchema);
  return bootstrapService({
    service: 'gateway',
    env,
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES,
    rawBody: true,
    fastifyOptions: {
      trustProxy: trustProxy(env),
      keepAliveTimeout: env.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
      // The router's own refusals (an over-long or undecodable path segment), in the API's error shape.
      frameworkErrors: (error, _request, reply) => {
        const correlationId = newCorrelationId();
        const body = {
          code: ErrorCode.VALIDATION_FAILED,
          message: error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long' : 'The URL is not valid',
          correlationId,
        };
        void (reply as unknown as FastifyReply).status(400).header('x-correlation-id', correlationId).send(body);
      },
    },
    imports: [GatewayModule.forRoot(env)],
    async configure(app, logger) {
      app.useGlobalFilters(new HttpErrorFilter(logger));
      // Errors raised by Fastify before Nest sees the request (bad JSON, body too large).
      app
        .getHttpAdapter()
        .getInstance()
        .setErrorHandler((error, request, reply) => {
          const { status, body } = toHttpError(error, logger);
          noteErrorCode(request, body.code);
          if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
          void reply.status(status).send(body);
        });
      await registerEdge(app, {
        env,
        logger,
        limiter: app.get(RateLimiter),
        keys: app.get(ApiKeysService),
        audit: app.get(AuditService),
        drain: app.get(DrainController),
      });
      registerConsole(app, env, logger);
    },
  });
});

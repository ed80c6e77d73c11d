import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { AuditService } from './audit/audit.service';
import { gatewayEnvSchema } from './config';
import { HttpErrorFilter, noteErrorCode, toHttpError } from './errors/http-error.filter';
import { GatewayModule } from './gateway.module';
import { DrainController } from './http/drain';
import { registerEdge } from './http/edge';
import { RateLimiter } from './http/rate-limiter';

runService(() => {
  const env = loadConfig(gatewayEnvSchema);
  return bootstrapService({
    service: 'gateway',
    env,
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES,
    fastifyOptions: { trustProxy: env.GATEWAY_TRUST_PROXY, keepAliveTimeout: env.GATEWAY_KEEP_ALIVE_TIMEOUT_MS },
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
          void reply.status(status).send(body);
        });
      await registerEdge(app, { env, logger, limiter: app.get(RateLimiter), audit: app.get(AuditService), drain: app.get(DrainController) });
    },
  });
});

import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { gatewayEnvSchema } from './config';
import { HttpErrorFilter, toHttpError } from './errors/http-error.filter';
import { GatewayModule } from './gateway.module';

runService(() => {
  const env = loadConfig(gatewayEnvSchema);
  return bootstrapService({
    service: 'gateway',
    env,
    bodyLimitBytes: env.GATEWAY_BODY_LIMIT_BYTES,
    imports: [GatewayModule.forRoot(env)],
    configure(app, logger) {
      app.useGlobalFilters(new HttpErrorFilter(logger));
      // Errors raised by Fastify before Nest sees the request (bad JSON, body too large).
      app
        .getHttpAdapter()
        .getInstance()
        .setErrorHandler((error, _request, reply) => {
          const { status, body } = toHttpError(error, logger);
          void reply.status(status).send(body);
        });
    },
  });
});

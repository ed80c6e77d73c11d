import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { prometheusSample } from '../__tests__/prometheus-sample';
import { createServiceMetrics } from '../metrics/service-metrics';
import { ObservabilityModule } from '../nest/observability.module';
import type { ObservabilityModuleOptions } from '../nest/observability-module-options';
import { HealthRegistry } from './health-registry';

const SERVICE = 'health-controller-spec';
const dependencies = { postgres: true, redis: true };

// How features register their dependencies: inject the global HealthRegistry, register on init.
@Injectable()
class DependencyChecks implements OnModuleInit {
  constructor(private readonly health: HealthRegistry) {}

  onModuleInit(): void {
    for (const name of ['postgres', 'redis'] as const) {
      this.health.register({
        name,
        check: async () => {
          if (!dependencies[name]) throw new Error(`connect ECONNREFUSED for ${name}://svc:pw@127.0.0.1`);
          return { pool: 'ok' };
        },
      });
    }
  }
}

@Module({ providers: [DependencyChecks] })
class FeatureModule {}

async function startApp(overrides: Partial<ObservabilityModuleOptions> = {}): Promise<NestFastifyApplication> {
  const options: ObservabilityModuleOptions = {
    service: SERVICE,
    logger: pino({ enabled: false }),
    metrics: createServiceMetrics(SERVICE),
    ...overrides,
  };
  @Module({ imports: [ObservabilityModule.forRoot(options), FeatureModule] })
  class AppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('HealthController', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  afterEach(() => {
    dependencies.postgres = true;
    dependencies.redis = true;
  });

  it('GET /health/live answers 200 with the service and uptime', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/live' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', service: SERVICE, uptimeSeconds: expect.any(Number) });
  });

  it('GET /health/ready answers 200 with every registered dependency up', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ok',
      service: SERVICE,
      uptimeSeconds: expect.any(Number),
      checks: {
        postgres: { status: 'up', latencyMs: expect.any(Number), details: { pool: 'ok' } },
        redis: { status: 'up', latencyMs: expect.any(Number), details: { pool: 'ok' } },
      },
    });
  });

  it('GET /health/ready answers 503 naming the failing dependency, without its credentials', async () => {
    dependencies.redis = false;
    const response = await app.inject({ method: 'GET', url: '/health/ready' });

    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/json');
    const report = response.json();
    expect(report).toMatchObject({
      status: 'error',
      service: SERVICE,
      checks: {
        postgres: { status: 'up' },
        redis: { status: 'down', error: 'connect ECONNREFUSED for redis://127.0.0.1' },
      },
    });
    expect(response.body).not.toContain('pw@');
  });

  it('GET /metrics answers Prometheus text with the dependency gauge and process metrics', async () => {
    dependencies.postgres = false;
    await app.inject({ method: 'GET', url: '/health/ready' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(prometheusSample(response.body, 'overskill_dependency_up', { dependency: 'postgres', service: SERVICE })).toBe(0);
    expect(prometheusSample(response.body, 'overskill_dependency_up', { dependency: 'redis', service: SERVICE })).toBe(1);
    expect(response.body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(response.body).toMatch(/^process_resident_memory_bytes\{service="health-controller-spec"\} \d+/m);
  });

  it('GET /metrics checks the dependencies itself: the gauge follows an outage with no readiness probe', async () => {
    const gauge = async () =>
      prometheusSample((await app.inject({ method: 'GET', url: '/metrics' })).body, 'overskill_dependency_up', { dependency: 'redis', service: SERVICE });
    expect(await gauge()).toBe(1);
    dependencies.redis = false;
    expect(await gauge()).toBe(0);
    dependencies.redis = true;
    expect(await gauge()).toBe(1);
  });

  it('leaves the routes out when healthRoutes is false, still providing HealthRegistry', async () => {
    const bare = await startApp({ healthRoutes: false });
    try {
      expect((await bare.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(404);
      expect((await bare.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      expect(
        bare
          .get(HealthRegistry)
          .list()
          .map((indicator) => indicator.name),
      ).toEqual(['postgres', 'redis']);
    } finally {
      await bare.close();
    }
  });
});

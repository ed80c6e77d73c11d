import { prometheusSample } from '../__tests__/prometheus-sample';
import { createServiceMetrics } from '../metrics/service-metrics';
import type { HealthIndicator } from './health-indicator';
import { HealthRegistry } from './health-registry';
import { runHealthChecks } from './run-health-checks';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('runHealthChecks', () => {
  it('reports ok with latency and details when every dependency is up', async () => {
    const report = await runHealthChecks('git-service', [
      { name: 'nats', check: async () => ({ server: 'n1' }) },
      { name: 'redis', check: async () => undefined },
    ]);

    expect(report).toEqual({
      status: 'ok',
      service: 'git-service',
      uptimeSeconds: expect.any(Number),
      checks: {
        nats: { status: 'up', latencyMs: expect.any(Number), details: { server: 'n1' } },
        redis: { status: 'up', latencyMs: expect.any(Number) },
      },
    });
    expect(report.checks['redis']).not.toHaveProperty('details');
  });

  it('names the failing dependency with a short message free of credentials', async () => {
    const report = await runHealthChecks('orchestrator', [
      { name: 'redis', check: async () => undefined },
      {
        name: 'postgres',
        check: async () => {
          throw new Error('connect ECONNREFUSED for postgres://orch:s3cret@127.0.0.1:5432/overskill\n    at TCPConnectWrap');
        },
      },
    ]);

    expect(report.status).toBe('error');
    expect(report.checks['redis'].status).toBe('up');
    expect(report.checks['postgres']).toEqual({
      status: 'down',
      latencyMs: expect.any(Number),
      error: 'connect ECONNREFUSED for postgres://127.0.0.1:5432/overskill',
    });
  });

  it('treats a synchronous throw and an empty AggregateError as down', async () => {
    const report = await runHealthChecks('analytics', [
      {
        name: 'sync',
        check: () => {
          throw new Error('not connected');
        },
      },
      {
        name: 'dual-stack',
        check: async () => {
          throw new AggregateError([new Error('connect ECONNREFUSED 127.0.0.1:6379')], '');
        },
      },
    ]);
    expect(report.checks['sync']).toMatchObject({ status: 'down', error: 'not connected' });
    expect(report.checks['dual-stack']).toMatchObject({ status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:6379' });
  });

  it('times a hanging check out and runs checks in parallel', async () => {
    const started = performance.now();
    const report = await runHealthChecks(
      'ai-router',
      [
        { name: 'hangs', check: () => new Promise(() => undefined) },
        { name: 'slow-a', check: () => delay(200) },
        { name: 'slow-b', check: () => delay(200) },
      ],
      { timeoutMs: 300 },
    );
    const took = performance.now() - started;

    expect(report.checks['hangs']).toEqual({ status: 'down', latencyMs: expect.any(Number), error: 'timed out after 300 ms' });
    expect(report.checks['hangs'].latencyMs).toBeGreaterThanOrEqual(295);
    expect(report.checks['slow-a'].status).toBe('up');
    expect(report.checks['slow-b'].status).toBe('up');
    // One after another would take 700 ms; in parallel ~300 ms.
    expect(took).toBeLessThan(650);
  });

  it('uses a 2000 ms timeout by default', async () => {
    jest.useFakeTimers();
    try {
      const pending = runHealthChecks('backup', [{ name: 'hangs', check: () => new Promise(() => undefined) }]);
      await jest.advanceTimersByTimeAsync(1999);
      let settled = false;
      void pending.then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect((await pending).checks['hangs'].error).toBe('timed out after 2000 ms');
    } finally {
      jest.useRealTimers();
    }
  });

  it('sets overskill_dependency_up to 1 or 0 per dependency', async () => {
    const metrics = createServiceMetrics('health-spec');
    const redisDown: HealthIndicator = {
      name: 'redis',
      check: async () => {
        throw new Error('down');
      },
    };
    await runHealthChecks('health-spec', [{ name: 'nats', check: async () => undefined }, redisDown], { metrics });

    const up = async (dependency: string) =>
      prometheusSample(await metrics.registry.metrics(), 'overskill_dependency_up', { dependency, service: 'health-spec' });
    expect(await up('nats')).toBe(1);
    expect(await up('redis')).toBe(0);

    await runHealthChecks('health-spec', [{ name: 'redis', check: async () => undefined }], { metrics });
    expect(await up('redis')).toBe(1);
  });

  it('is ok with nothing to check', async () => {
    await expect(runHealthChecks('gateway', [])).resolves.toMatchObject({ status: 'ok', checks: {} });
  });
});

describe('HealthRegistry', () => {
  it('lists indicators in registration order and refuses a second one under the same name', () => {
    const registry = new HealthRegistry();
    const postgres: HealthIndicator = { name: 'postgres', check: async () => undefined };
    const redis: HealthIndicator = { name: 'redis', check: async () => undefined };
    registry.register(postgres);
    registry.register(redis);

    expect(registry.list()).toEqual([postgres, redis]);
    expect(() => registry.register({ name: 'redis', check: async () => undefined })).toThrow('health indicator "redis" is already registered');
  });
});

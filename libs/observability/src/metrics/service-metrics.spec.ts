import { prometheusSample as sampleValue } from '../__tests__/prometheus-sample';
import { createServiceMetrics } from './service-metrics';

describe('createServiceMetrics', () => {
  it('exposes the shared metrics and default process metrics, every series labelled with the service', async () => {
    const metrics = createServiceMetrics('metrics-spec');
    metrics.httpRequestDuration.observe({ method: 'GET', route: '/api/apps/:id', status_code: '200' }, 0.012);
    metrics.natsRequestDuration.observe({ subject: 'git.repo.commit.v1', outcome: 'ok' }, 0.0003);
    metrics.natsHandlerDuration.observe({ subject: 'git.repo.commit.v1', outcome: 'RPC_TIMEOUT' }, 2);
    metrics.dependencyUp.set({ dependency: 'postgres' }, 1);

    const text = await metrics.registry.metrics();

    expect(metrics.registry.contentType).toContain('text/plain');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    const http = { method: 'GET', route: '/api/apps/:id', status_code: '200', service: 'metrics-spec' };
    expect(sampleValue(text, 'http_request_duration_seconds_count', http)).toBe(1);
    const natsOk = { subject: 'git.repo.commit.v1', outcome: 'ok', service: 'metrics-spec' };
    expect(sampleValue(text, 'nats_request_duration_seconds_bucket', { ...natsOk, le: '0.0001' })).toBe(0);
    expect(sampleValue(text, 'nats_request_duration_seconds_bucket', { ...natsOk, le: '0.0005' })).toBe(1);
    const natsTimeout = { subject: 'git.repo.commit.v1', outcome: 'RPC_TIMEOUT', service: 'metrics-spec' };
    expect(sampleValue(text, 'nats_handler_duration_seconds_bucket', { ...natsTimeout, le: '1' })).toBe(0);
    expect(sampleValue(text, 'nats_handler_duration_seconds_bucket', { ...natsTimeout, le: '10' })).toBe(1);
    expect(sampleValue(text, 'overskill_dependency_up', { dependency: 'postgres', service: 'metrics-spec' })).toBe(1);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toMatch(new RegExp(`^${name}\\{service="metrics-spec"\\} `, 'm'));
    }
    // Every sample line carries the service label.
    const samples = text.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(samples.length).toBeGreaterThan(20);
    for (const line of samples) expect(line).toContain('service="metrics-spec"');
  });

  it('returns the same metrics for the same service and separate registries for others', () => {
    const first = createServiceMetrics('svc-a');
    expect(createServiceMetrics('svc-a')).toBe(first);
    const other = createServiceMetrics('svc-b');
    expect(other.registry).not.toBe(first.registry);
    expect(other.httpRequestDuration).not.toBe(first.httpRequestDuration);
  });
});

import { Histogram, Registry } from 'prom-client';
import { boundObserver } from './bound-observer';

// Counting in place must give exactly what prom-client's own observe gives.
describe('boundObserver', () => {
  const make = () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'spec' });
    const histogram = new Histogram({
      name: 'nats_handler_duration_seconds',
      help: 'h',
      labelNames: ['subject', 'outcome'] as const,
      buckets: [0.0001, 0.001, 0.01, 0.1, 1],
      registers: [registry],
    });
    return { registry, histogram };
  };
  const values = [0, 0.00005, 0.0001, 0.00011, 0.001, 0.5, 1, 1.5, 30, -1, 0.01, 0.0999];
  const outcomes = ['ok', 'APP_BUSY', 'ok', 'INTERNAL'];

  async function bothWays(run: (observe: (subject: string, outcome: string, v: number) => void, registry: Registry) => void | Promise<void>) {
    const theirs = make();
    await run((subject, outcome, v) => theirs.histogram.labels({ subject, outcome }).observe(v), theirs.registry);
    const ours = make();
    const observers = new Map<string, ReturnType<typeof boundObserver>>();
    await run((subject, outcome, v) => {
      if (!observers.has(subject)) observers.set(subject, boundObserver(ours.histogram, subject));
      observers.get(subject)!(outcome, v);
    }, ours.registry);
    return { theirs: await theirs.registry.metrics(), ours: await ours.registry.metrics() };
  }

  it('gives the same series, sums, counts and buckets as prom-client', async () => {
    const { theirs, ours } = await bothWays((observe) => {
      for (let i = 0; i < 200; i++) observe(i % 3 ? 'a.b.v1' : 'c.d.v1', outcomes[i % outcomes.length]!, values[i % values.length]!);
    });
    expect(ours).toBe(theirs);
    expect(ours).toContain('nats_handler_duration_seconds_count{service="spec",subject="a.b.v1",outcome="ok"}');
  });

  it('keeps counting after the registry is reset', async () => {
    const { theirs, ours } = await bothWays((observe, registry) => {
      for (let i = 0; i < 20; i++) observe('a.b.v1', 'ok', values[i % values.length]!);
      registry.resetMetrics();
      for (let i = 0; i < 7; i++) observe('a.b.v1', 'ok', values[i % values.length]!);
    });
    expect(ours).toBe(theirs);
    expect(ours).toContain('nats_handler_duration_seconds_count{service="spec",subject="a.b.v1",outcome="ok"} 7');
  });

  it('refuses a value that is not a number as prom-client does', () => {
    const { histogram } = make();
    const observe = boundObserver(histogram, 'a.b.v1');
    observe('ok', 0.1);
    observe('ok', 0.2);
    expect(() => observe('ok', Number.NaN)).toThrow(/not a valid number/);
  });
});

import type { Histogram } from 'prom-client';

export type Observe = (outcome: string, seconds: number) => void;

// prom-client's own state for one label set (its histogram's hashMap entry).
interface Series {
  labels: Record<string, string>;
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
}
interface HistogramState {
  hashMap?: Record<string, Series>;
  upperBounds?: readonly number[];
  enableExemplars?: boolean;
}

// A `subject`/`outcome` histogram bound to one subject. prom-client's bound child still converts,
// validates and hashes its labels on every observation; here each outcome's series is found once
// (after prom-client made it) and counted in place the way prom-client counts it: sum, count, the
// first bucket whose bound holds the value. Whenever the series is not the one prom-client holds
// (a registry reset, exemplars on, a value that is not finite), prom-client observes it itself.
export function boundObserver(histogram: Histogram<'subject' | 'outcome'>, subject: string): Observe {
  const state = histogram as unknown as HistogramState;
  const byOutcome = new Map<string, { child: Histogram.Internal<'subject' | 'outcome'>; key?: string; series?: Series; bounds?: readonly number[] }>();
  return (outcome, seconds) => {
    let bound = byOutcome.get(outcome);
    if (!bound) {
      bound = { child: histogram.labels({ subject, outcome }) };
      byOutcome.set(outcome, bound);
    }
    const { series, key, bounds } = bound;
    if (series && bounds && key !== undefined && state.hashMap?.[key] === series && Number.isFinite(seconds)) {
      series.sum += seconds;
      series.count += 1;
      for (const upper of bounds) {
        if (seconds > upper) continue;
        if (Object.prototype.hasOwnProperty.call(series.bucketValues, upper)) series.bucketValues[upper] += 1;
        break;
      }
      return;
    }
    bound.child.observe(seconds);
    Object.assign(bound, seriesOf(state, subject, outcome));
  };
}

function seriesOf(state: HistogramState, subject: string, outcome: string): { key?: string; series?: Series; bounds?: readonly number[] } {
  const none = { key: undefined, series: undefined, bounds: undefined };
  if (state.enableExemplars || !state.hashMap || !Array.isArray(state.upperBounds)) return none;
  for (const [key, series] of Object.entries(state.hashMap)) {
    const labels = series.labels;
    if (labels && labels.subject === subject && labels.outcome === outcome && Object.keys(labels).length === 2)
      return { key, series, bounds: state.upperBounds };
  }
  return none;
}

import type { Histogram } from 'prom-client';

export type Observe = (outcome: string, seconds: number) => void;

// A `subject`/`outcome` histogram bound to one subject: each outcome's labels are validated and
// allocated once, not on every observation.
export function boundObserver(histogram: Histogram<'subject' | 'outcome'>, subject: string): Observe {
  const byOutcome = new Map<string, Histogram.Internal<'subject' | 'outcome'>>();
  return (outcome, seconds) => {
    let child = byOutcome.get(outcome);
    if (!child) {
      child = histogram.labels({ subject, outcome });
      byOutcome.set(outcome, child);
    }
    child.observe(seconds);
  };
}

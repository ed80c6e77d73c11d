import { round } from './stats';

// One autocannon measurement as the HTTP benchmarks report it.
export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
}

// Several rounds of one subject: mean req/s and p50, the worst p99, totals.
export function mergeRounds(runs: Measured[]): Measured {
  const n = runs.length;
  return {
    rps: round(runs.reduce((s, r) => s + r.rps, 0) / n, 0),
    p50: round(runs.reduce((s, r) => s + r.p50, 0) / n, 1),
    p99: round(Math.max(...runs.map((r) => r.p99)), 1),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    requests: runs.reduce((s, r) => s + r.requests, 0),
  };
}

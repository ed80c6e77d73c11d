// Order statistics for benchmark samples. Percentiles use the nearest-rank method on the sorted
// samples, so a reported figure is always a latency that was actually observed.

export function sorted(samples: readonly number[]): number[] {
  return [...samples].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of samples that are already sorted ascending. */
export function percentileOfSorted(ascending: readonly number[], p: number): number {
  if (ascending.length === 0) throw new Error('no samples');
  const rank = Math.ceil((p / 100) * ascending.length);
  return ascending[Math.min(ascending.length, Math.max(1, rank)) - 1]!;
}

export function percentile(samples: readonly number[], p: number): number {
  return percentileOfSorted(sorted(samples), p);
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(samples: readonly number[]): number {
  const s = sorted(samples);
  if (s.length === 0) throw new Error('no samples');
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function mean(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('no samples');
  return samples.reduce((sum, x) => sum + x, 0) / samples.length;
}

export interface LatencySummary {
  count: number;
  medianUs: number;
  p90Us: number;
  p99Us: number;
  minUs: number;
  maxUs: number;
  meanUs: number;
}

/** Samples in milliseconds (performance.now() differences), summarised in microseconds. */
export function summarizeLatencyMs(samplesMs: readonly number[]): LatencySummary {
  const us = sorted(samplesMs.map((ms) => ms * 1000));
  return {
    count: us.length,
    medianUs: round(median(us), 1),
    p90Us: round(percentileOfSorted(us, 90), 1),
    p99Us: round(percentileOfSorted(us, 99), 1),
    minUs: round(us[0]!, 1),
    maxUs: round(us[us.length - 1]!, 1),
    meanUs: round(mean(us), 1),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function ratio(ours: number, baseline: number): number {
  return round(ours / baseline, 2);
}

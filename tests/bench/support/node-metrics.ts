// What a service's own prom-client default metrics say about stalls during a series: garbage
// collection pauses (count and total by kind, from nodejs_gc_duration_seconds) and the event
// loop's delay (max and p99 since the previous scrape: prom-client resets it on every scrape).

export interface StallSnapshot {
  gc: Record<string, { count: number; seconds: number }>;
  lagMaxMs: number;
  lagP99Ms: number;
}

export async function stallSnapshot(baseUrl: string): Promise<StallSnapshot | undefined> {
  const res = await fetch(`${baseUrl}/metrics`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const text = await res.text();
  const gc: StallSnapshot['gc'] = {};
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{[^}]*kind="(\w+)"[^}]*\} ([\d.e+-]+)$/gm)) {
    const kind = (gc[m[2]!] ??= { count: 0, seconds: 0 });
    if (m[1] === 'sum') kind.seconds += Number(m[3]);
    else kind.count += Number(m[3]);
  }
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { gc, lagMaxMs: gauge('nodejs_eventloop_lag_max_seconds'), lagP99Ms: gauge('nodejs_eventloop_lag_p99_seconds') };
}

// Between two scrapes around a series of `seconds`: GC pauses per kind (count, total ms, mean ms,
// share of the wall time) and the event loop delay the second scrape saw.
export function stallsDuring(before: StallSnapshot | undefined, after: StallSnapshot | undefined, seconds: number): string {
  if (!before || !after) return 'no metrics';
  const kinds = Object.entries(after.gc)
    .map(([kind, a]) => {
      const b = before.gc[kind] ?? { count: 0, seconds: 0 };
      const count = a.count - b.count;
      const ms = (a.seconds - b.seconds) * 1000;
      return count > 0 ? `${kind} ${count}× ${ms.toFixed(0)} ms (mean ${(ms / count).toFixed(2)}, ${((ms / (seconds * 1000)) * 100).toFixed(1)}% of wall)` : '';
    })
    .filter(Boolean);
  return `gc ${kinds.join(', ') || 'none'}; event loop delay p99 ${after.lagP99Ms.toFixed(1)} ms, max ${after.lagMaxMs.toFixed(1)} ms`;
}

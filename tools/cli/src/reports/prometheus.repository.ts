// Route and subject latency from Prometheus' HTTP API (the services' http_request_duration_seconds
// and nats_handler_duration_seconds histograms), when a Prometheus is reachable.

export interface PromLatency {
  name: string;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  ratePerS: number;
  errorRate: number;
}

export type PrometheusFigures =
  { url: string; reachable: true; routes: PromLatency[]; subjects: PromLatency[] } | { url: string; reachable: false; error: string };

const TIMEOUT_MS = 5000;

async function query(base: string, expr: string, at: number): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const url = `${base.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${expr.slice(0, 60)}`);
  const body = (await res.json()) as { status?: string; data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query failed: ${expr.slice(0, 60)}`);
  return (body.data?.result ?? []).map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

async function byLabel(base: string, metric: string, label: string, failed: string, window: string, at: number): Promise<PromLatency[]> {
  const q = (p: number) => `histogram_quantile(${p}, sum by (le, ${label}) (rate(${metric}_bucket[${window}])))`;
  const [p50, p95, p99, rate, errors] = await Promise.all([
    query(base, q(0.5), at),
    query(base, q(0.95), at),
    query(base, q(0.99), at),
    query(base, `sum by (${label}) (rate(${metric}_count[${window}]))`, at),
    query(base, `sum by (${label}) (rate(${metric}_count{${failed}}[${window}]))`, at),
  ]);
  const get = (rows: typeof p50, name: string) => rows.find((r) => r.labels[label] === name)?.value;
  const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : Math.round(v * 10_000) / 10);
  return rate
    .filter((r) => r.value > 0)
    .sort((a, b) => b.value - a.value)
    .map((r) => {
      const name = r.labels[label] ?? '';
      return {
        name,
        p50Ms: ms(get(p50, name)),
        p95Ms: ms(get(p95, name)),
        p99Ms: ms(get(p99, name)),
        ratePerS: r.value,
        errorRate: (get(errors, name) ?? 0) / r.value,
      };
    });
}

export async function prometheusLatencies(base: string, from: string, to: string): Promise<PrometheusFigures> {
  const start = Date.parse(`${from}T00:00:00.000Z`) / 1000;
  const at = Math.min(Date.parse(`${to}T00:00:00.000Z`) / 1000 + 86_400, Math.floor(Date.now() / 1000));
  const window = `${Math.max(60, Math.round(at - start))}s`;
  try {
    const [routes, subjects] = await Promise.all([
      byLabel(base, 'http_request_duration_seconds', 'route', 'status_code=~"5.."', window, at),
      byLabel(base, 'nats_handler_duration_seconds', 'subject', 'outcome!="ok"', window, at),
    ]);
    return { url: base, reachable: true, routes, subjects };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { url: base, reachable: false, error: e.cause?.code ?? e.message };
  }
}

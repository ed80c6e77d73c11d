// Messages nats-server moved, per client connection, from its monitoring endpoint (/connz): around
// a series, they say how many NATS messages each request of the path costs and who sends them.

interface Connz {
  connections: Array<{ cid: number; name?: string; in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }>;
}

export type NatsTraffic = Record<string, { inMsgs: number; outMsgs: number; inBytes: number; outBytes: number }>;

// Totals by connection name (replicas and reconnects of one name add up).
export async function natsTraffic(monitorUrl: string | undefined): Promise<NatsTraffic | undefined> {
  if (!monitorUrl) return undefined;
  const res = await fetch(`${monitorUrl}/connz?limit=1024`);
  if (!res.ok) return undefined;
  const connz = (await res.json()) as Connz;
  const out: NatsTraffic = {};
  for (const c of connz.connections) {
    const t = (out[c.name || `cid ${c.cid}`] ??= { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 });
    t.inMsgs += c.in_msgs;
    t.outMsgs += c.out_msgs;
    t.inBytes += c.in_bytes;
    t.outBytes += c.out_bytes;
  }
  return out;
}

// Per unit (request) between two snapshots: messages and bytes each connection sent ("in" to the
// server) and received ("out" of it). Connections with no traffic are left out.
export function natsTrafficPerUnit(before: NatsTraffic | undefined, after: NatsTraffic | undefined, units: number): Record<string, string> {
  if (!before || !after || units === 0) return {};
  const per: Record<string, string> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
    const sent = (a.inMsgs - b.inMsgs) / units;
    const received = (a.outMsgs - b.outMsgs) / units;
    if (sent < 0.001 && received < 0.001) continue;
    const bytes = (a.inBytes - b.inBytes + a.outBytes - b.outBytes) / units;
    per[name] = `sent ${sent.toFixed(3)}, received ${received.toFixed(3)} msgs (${Math.round(bytes)} B)`;
  }
  return per;
}

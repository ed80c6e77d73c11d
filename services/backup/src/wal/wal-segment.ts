// WAL segment file names: timeline, then the segment number split into "log" and "seg" halves,
// each as 8 hex digits (000000010000000200000003). The split depends on the segment size.
export const WAL_SEGMENT_NAME = /^[0-9A-F]{24}$/;

export interface WalSegment {
  timeline: number;
  // Segment number counted from the start of the WAL.
  number: bigint;
}

const FOUR_GB = 0x100000000n;

function perLog(segmentBytes: number): bigint {
  return FOUR_GB / BigInt(segmentBytes);
}

export function parseSegment(name: string, segmentBytes: number): WalSegment | null {
  if (!WAL_SEGMENT_NAME.test(name)) return null;
  const log = BigInt(`0x${name.slice(8, 16)}`);
  const seg = BigInt(`0x${name.slice(16, 24)}`);
  if (seg >= perLog(segmentBytes)) return null;
  return { timeline: parseInt(name.slice(0, 8), 16), number: log * perLog(segmentBytes) + seg };
}

export function segmentName(s: WalSegment, segmentBytes: number): string {
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(s.timeline)}${hex(s.number / perLog(segmentBytes))}${hex(s.number % perLog(segmentBytes))}`;
}

// "0/4000028" → the segment holding that position on `timeline`.
export function segmentOfLsn(lsn: string, timeline: number, segmentBytes: number): string {
  const m = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(lsn);
  if (!m) throw new Error(`"${lsn}" is not a WAL position`);
  const position = (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
  return segmentName({ timeline, number: position / BigInt(segmentBytes) }, segmentBytes);
}

export interface WalChain {
  // Segments from the first asked for, in order, as long as none is missing.
  segments: string[];
  // Segments absent although later ones exist: WAL after a gap cannot be replayed.
  missing: string[];
}

// The contiguous run of `names` (one timeline) from `first`, and what is missing after it.
export function walChain(names: string[], first: string, segmentBytes: number): WalChain {
  const start = parseSegment(first, segmentBytes);
  if (!start) throw new Error(`"${first}" is not a WAL segment name`);
  const have = new Set<bigint>();
  let last = -1n;
  for (const name of names) {
    const s = parseSegment(name, segmentBytes);
    if (!s || s.timeline !== start.timeline || s.number < start.number) continue;
    have.add(s.number);
    if (s.number > last) last = s.number;
  }
  const segments: string[] = [];
  const missing: string[] = [];
  for (let n = start.number; n <= last; n++) {
    const name = segmentName({ timeline: start.timeline, number: n }, segmentBytes);
    if (!have.has(n)) missing.push(name);
    else if (missing.length === 0) segments.push(name);
  }
  if (last < start.number) missing.push(first);
  return { segments, missing };
}

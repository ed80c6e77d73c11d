import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

// Reading V8 CPU profiles (.cpuprofile, from `node --cpu-prof` or the inspector) into "where did
// the time go": self time per function and per package, and inclusive time of chosen frames.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  sampledMs: number;
  // Shares of the sampled time in the window, in percent.
  byPackage: Array<{ name: string; selfPct: number }>;
  topSelf: Array<{ name: string; selfPct: number }>;
  topInclusive: Array<{ name: string; inclusivePct: number }>;
}

function where(url: string): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) return clean.slice(nm + 'node_modules/'.length);
  const dist = clean.indexOf('/dist/');
  if (dist >= 0) return clean.slice(dist + 1);
  const repo = clean.indexOf('/work/');
  return repo >= 0 ? path.basename(clean) : clean;
}

function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node (core)';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = clean.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const m = /\/(libs|services)\/([^/]+)\//.exec(clean);
  if (m) return `${m[1]}/${m[2]}`;
  if (clean.includes('/tests/')) return 'tests (bench harness)';
  return clean;
}

function frameName(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${where(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`.trim();
}

/** Summarises the samples taken between windowStartUs and windowEndUs (profile clock; omit for all). */
export function summarizeProfile(
  profile: CpuProfile,
  opts: { windowStartUs?: number; windowEndUs?: number; top?: number; skip?: RegExp } = {},
): ProfileSummary {
  const top = opts.top ?? 20;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const dur = profile.timeDeltas[i + 1] ?? 0;
    if (opts.windowStartUs !== undefined && t < opts.windowStartUs) continue;
    if (opts.windowEndUs !== undefined && t > opts.windowEndUs) continue;
    const node = nodes.get(profile.samples[i]!);
    if (!node) continue;
    const name = frameName(node.callFrame);
    if (node.callFrame.functionName === '(idle)') continue; // waiting on the network: not CPU
    if (opts.skip?.test(name)) continue;
    total += dur;
    self.set(name, (self.get(name) ?? 0) + dur);
    const p = packageOf(node.callFrame);
    pkg.set(p, (pkg.get(p) ?? 0) + dur);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = nodes.get(id)!;
      const fname = frameName(n.callFrame);
      if (seen.has(fname)) continue;
      seen.add(fname);
      inclusive.set(fname, (inclusive.get(fname) ?? 0) + dur);
    }
  }
  const pct = (x: number) => Math.round((1000 * x) / Math.max(1, total)) / 10;
  const sortDesc = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    sampledMs: Math.round(total / 1000),
    byPackage: sortDesc(pkg)
      .slice(0, top)
      .map(([name, us]) => ({ name, selfPct: pct(us) })),
    topSelf: sortDesc(self)
      .slice(0, top)
      .map(([name, us]) => ({ name, selfPct: pct(us) })),
    topInclusive: sortDesc(inclusive)
      .filter(([name]) => !/^\((root|program)\)/.test(name))
      .slice(0, top * 2)
      .map(([name, us]) => ({ name, inclusivePct: pct(us) })),
  };
}

export function readProfiles(dir: string): CpuProfile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile);
}

/** Microseconds on the clock V8's profiler stamps samples with (CLOCK_MONOTONIC on Linux). */
export function profileClockUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Profiles this process (the inspector's sampling profiler) while `work` runs. */
export async function profileSelf<T>(work: () => Promise<T>, intervalUs = 100): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  const post = <R>(method: string, params?: object) =>
    new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as R))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  try {
    const result = await work();
    const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
    return { result, profile };
  } finally {
    await post('Profiler.disable').catch(() => undefined);
    session.disconnect();
  }
}

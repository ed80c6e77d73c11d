import { readdirSync, readFileSync } from 'node:fs';

// CPU time of processes from /proc: unlike req/s on a shared machine, the CPU a process spends
// per request does not depend much on what else runs, so it shows where the cost is.

const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  // utime + stime, and cutime + cstime (children already reaped: PostgreSQL's exited backends).
  own: number;
  reaped: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return {
      pid,
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(fields[1]),
      own: Number(fields[11]) + Number(fields[12]),
      reaped: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds one process has used so far (utime + stime), without scanning /proc. */
export function processCpuSeconds(pid: number | undefined): number {
  const stat = pid ? readStat(pid) : undefined;
  return stat ? stat.own / TICKS_PER_SECOND : 0;
}

/** CPU seconds of a process's children that have exited and been reaped (the bench's own git processes). */
export function reapedChildrenCpuSeconds(pid: number = process.pid): number {
  const stat = readStat(pid);
  return stat ? stat.reaped / TICKS_PER_SECOND : 0;
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** CPU seconds used so far by a process and its descendants (PostgreSQL: the postmaster and its backends). */
export function treeCpuSeconds(pid: number | undefined, stats: ProcStat[] = allStats()): number {
  if (!pid) return 0;
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const root = stats.find((s) => s.pid === pid);
  if (!root) return 0;
  let ticks = 0;
  const queue = [root];
  for (let s = queue.pop(); s; s = queue.pop()) {
    ticks += s.own + s.reaped;
    queue.push(...(children.get(s.pid) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** The stack's servers (nats-server, postgres, redis-server) started by this Jest process or its parent. */
export function stackServerPids(): Record<string, number> {
  const parents = new Set([process.pid, process.ppid]);
  const found: Record<string, number> = {};
  for (const s of allStats()) {
    if (!parents.has(s.ppid)) continue;
    if (s.comm === 'nats-server') found['nats'] = s.pid;
    else if (s.comm === 'postgres') found['postgres'] = s.pid;
    else if (s.comm === 'redis-server') found['redis'] = s.pid;
  }
  return found;
}

/** CPU seconds of named process trees, read at once; `bench` is this process. */
export function cpuSnapshot(pids: Record<string, number | undefined>): Record<string, number> {
  const stats = allStats();
  const own = process.cpuUsage();
  const snapshot: Record<string, number> = { bench: (own.user + own.system) / 1e6 };
  for (const [name, pid] of Object.entries(pids)) snapshot[name] = treeCpuSeconds(pid, stats);
  return snapshot;
}

/** CPU milliseconds per unit of work between two snapshots, by process, with the total. */
export function cpuPerUnitMs(before: Record<string, number>, after: Record<string, number>, units: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const name of Object.keys(after)) {
    const ms = ((after[name]! - (before[name] ?? 0)) * 1000) / units;
    out[name] = Math.round(ms * 1000) / 1000;
    total += ms;
  }
  out['total'] = Math.round(total * 1000) / 1000;
  return out;
}

/** Per process, the mean of several phases' figures. */
export function meanOf(...phases: Array<Record<string, number>>): Record<string, number> {
  const names = Object.keys(phases[0] ?? {});
  return Object.fromEntries(names.map((name) => [name, Math.round((phases.reduce((sum, p) => sum + (p[name] ?? 0), 0) / phases.length) * 1000) / 1000]));
}

/**
 * A process's CPU per step c at two run lengths, solved for c = per run / steps + per step: what a
 * run costs once (its post, claim, start and end) apart from what each of its steps costs.
 */
export function splitPerRun(
  long: { steps: number; cpuPerStepMs: Record<string, number> },
  short: { steps: number; cpuPerStepMs: Record<string, number> },
): { perRunMs: Record<string, number>; perStepMs: Record<string, number> } {
  const perRunMs: Record<string, number> = {};
  const perStepMs: Record<string, number> = {};
  for (const name of Object.keys(long.cpuPerStepMs)) {
    const [c, d] = [long.cpuPerStepMs[name]!, short.cpuPerStepMs[name] ?? 0];
    const once = (d - c) / (1 / short.steps - 1 / long.steps);
    perRunMs[name] = Math.round(once * 100) / 100;
    perStepMs[name] = Math.round((c - once / long.steps) * 1000) / 1000;
  }
  return { perRunMs, perStepMs };
}

/**
 * System calls that read and write (syscr, syscw of /proc/<pid>/io) by named processes, summed
 * over their threads: unlike CPU time, a count that does not move with the machine's load.
 */
export function syscallSnapshot(pids: Record<string, number | undefined>): Record<string, { reads: number; writes: number }> {
  const snapshot: Record<string, { reads: number; writes: number }> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (!pid) continue;
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'utf8');
      snapshot[name] = { reads: Number(/^syscr: (\d+)/m.exec(io)?.[1] ?? 0), writes: Number(/^syscw: (\d+)/m.exec(io)?.[1] ?? 0) };
    } catch {
      // gone, or not ours to read
    }
  }
  return snapshot;
}

/** Read and write system calls per unit of work between two snapshots, by process. */
export function syscallsPerUnit(
  before: Record<string, { reads: number; writes: number }>,
  after: Record<string, { reads: number; writes: number }>,
  units: number,
): Record<string, { reads: number; writes: number }> {
  const out: Record<string, { reads: number; writes: number }> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { reads: 0, writes: 0 };
    out[name] = { reads: Math.round(((a.reads - b.reads) / units) * 100) / 100, writes: Math.round(((a.writes - b.writes) / units) * 100) / 100 };
  }
  return out;
}

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Every benchmark writes its figures under its own name in one file, so running one of them
// never erases what another measured: tests/bench/results/latest.json (git-ignored).
export const RESULTS_DIR = path.resolve(__dirname, '..', 'results');
export const RESULTS_FILE = path.join(RESULTS_DIR, 'latest.json');

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemoryMb: number;
  platform: string;
  kernel: string;
  node: string;
  // 1/5/15-minute load averages when the benchmark started: a busy machine explains a slow run.
  loadAverage: number[];
  // What was measured: the commit, and how many files differed from it (a dirty tree is not that commit).
  revision: { commit: string; changedFiles: number };
}

function revision(): MachineInfo['revision'] {
  const git = (args: string[]) => spawnSync('git', args, { cwd: path.resolve(__dirname, '..', '..', '..'), encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    commit: head.status === 0 ? head.stdout.trim() : 'unknown',
    changedFiles: status.status === 0 ? status.stdout.split('\n').filter(Boolean).length : -1,
  };
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    revision: revision(),
  };
}

export interface GoalResult {
  goal: string;
  target: number;
  actual: number;
  unit: string;
  met: boolean;
}

export function goal(description: string, actual: number, target: number, unit: string): GoalResult {
  return { goal: description, target, actual, unit, met: actual <= target };
}

export interface BenchmarkRecord {
  benchmark: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  method: Record<string, unknown>;
  results: Record<string, unknown>;
  goals: GoalResult[];
}

interface ResultsFile {
  updatedAt: string;
  benchmarks: Record<string, BenchmarkRecord>;
}

/** Merges one benchmark's record into latest.json under its name (write to a temp file, then rename). */
export function recordResult(record: BenchmarkRecord): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  let current: ResultsFile = { updatedAt: record.finishedAt, benchmarks: {} };
  if (fs.existsSync(RESULTS_FILE)) {
    try {
      const parsed = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) as Partial<ResultsFile>;
      if (parsed && typeof parsed.benchmarks === 'object' && parsed.benchmarks) current = { updatedAt: record.finishedAt, benchmarks: parsed.benchmarks };
    } catch {
      // A damaged file is replaced rather than failing the benchmark that just ran.
    }
  }
  current.updatedAt = record.finishedAt;
  current.benchmarks[record.benchmark] = record;
  const tmp = `${RESULTS_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(current, null, 2)}\n`);
  fs.renameSync(tmp, RESULTS_FILE);
}

/** A plain-text table; numbers right-aligned. Written straight to stdout (Jest's console adds stack noise). */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => String(cell)))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  const numeric = header.map((_, col) => rows.every((row) => typeof row[col] === 'number' || /^[\d.,×x%+-]+$/.test(String(row[col]))));
  const line = (row: string[]) => row.map((cell, col) => (numeric[col] ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function formatGoals(goals: GoalResult[]): string {
  return goals.map((g) => `  [${g.met ? 'met ' : 'MISS'}] ${g.goal}: ${g.actual}${g.unit} (target ≤ ${g.target}${g.unit})`).join('\n');
}

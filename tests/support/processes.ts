import { spawnSync } from 'node:child_process';

// A server and its child processes (PostgreSQL's postmaster and every backend): what a frozen
// host or a VM pause stops together.
export function processTree(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout ?? '';
  const children = out
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((child) => Number.isInteger(child) && child > 0);
  return [pid, ...children.flatMap(processTree)];
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone (a backend that ended): nothing to stop or resume.
    }
  }
}

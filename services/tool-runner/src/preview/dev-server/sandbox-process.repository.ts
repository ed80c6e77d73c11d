import { Injectable } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { sandboxArgv, type SandboxSpec } from './sandbox-command';

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  // Killed by the watchdog for its resident memory, not by itself.
  memoryExceeded: boolean;
}

export interface SandboxHandle {
  pid: number;
  exited: Promise<SandboxExit>;
  // SIGTERM to the whole process group, SIGKILL after the grace; resolves once it is gone.
  stop(graceMs?: number): Promise<SandboxExit>;
}

export type OutputLine = (stream: 'stdout' | 'stderr', line: string) => void;

const PAGE_SIZE = 4096;
const LINE_CAP = 4000;
const WATCH_MS = 1000;

// Every process below pid (those that left its process group included), from /proc.
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

// Running, not a zombie waiting for its parent.
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function residentBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_SIZE;
    } catch {
      // Exited meanwhile.
    }
  }
  return total;
}

function splitLines(child: ChildProcess, onLine: OutputLine): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split(/\r?\n/);
      rest = (lines.pop() ?? '').slice(0, LINE_CAP);
      for (const line of lines) if (line.trim()) onLine(stream, line.slice(0, LINE_CAP));
    });
    child[stream]?.on('end', () => rest.trim() && onLine(stream, rest));
  }
}

// Runs sandboxed processes: bwrap in a process group of its own, output by lines, a watchdog on
// the resident memory of the whole tree. The only place that spawns or signals them.
@Injectable()
export class SandboxProcessRepository {
  start(spec: SandboxSpec, onLine: OutputLine): SandboxHandle {
    const child = spawn(spec.bwrap, sandboxArgv(spec), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    const pid = child.pid;
    splitLines(child, onLine);
    let memoryExceeded = false;
    const exited = new Promise<SandboxExit>((resolve) => {
      // bwrap could not be spawned at all: no 'exit' follows.
      child.once('error', () => {
        clearInterval(watchdog);
        resolve({ code: 127, signal: null, memoryExceeded });
      });
      child.once('exit', (code, signal) => {
        clearInterval(watchdog);
        // Whatever is left of the group (a child that ignored SIGTERM): the pid namespace dies
        // with bwrap's init, this is only belt and braces.
        killGroup(pid, 'SIGKILL', false);
        resolve({ code, signal, memoryExceeded });
      });
    });
    const watchdog = setInterval(() => {
      if (pid === undefined) return;
      if (residentBytes([pid, ...descendantsOf(pid)]) > spec.memoryBytes) {
        memoryExceeded = true;
        killGroup(pid, 'SIGKILL');
      }
    }, WATCH_MS);
    watchdog.unref();
    const stop = async (graceMs = 3000): Promise<SandboxExit> => {
      const tree = pid === undefined ? [] : descendantsOf(pid);
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      // The kernel kills the rest of the pid namespace when its init dies, asynchronously: stopped
      // means every process of the tree is gone.
      const deadline = Date.now() + graceMs;
      while (tree.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return exit;
    };
    return { pid: pid ?? -1, exited, stop };
  }

  // The dev server answers HTTP on its port (any status: a 404 is an answer).
  answers(port: number, host: string, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ host, port, path: '/', method: 'GET', timeout: timeoutMs, headers: { accept: 'text/html' } }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
}

// The group, and while bwrap lives every process below it (one that left the group too).
function killGroup(pid: number | undefined, signal: NodeJS.Signals, withDescendants = true): void {
  if (pid === undefined) return;
  for (const target of [-pid, ...(withDescendants ? descendantsOf(pid) : [])]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  }
}

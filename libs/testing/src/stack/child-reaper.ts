import type { ChildProcess } from 'node:child_process';
import { isChildRunning } from './is-child-running';

// Last resort for a run that ends without stop(): an uncaught error, process.exit(), or a
// signal nobody else handles. Servers are direct children, so their pids are all we need.
const tracked = new Map<ChildProcess, NodeJS.Signals>();
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function killTrackedChildren(): void {
  for (const [child, signal] of tracked) {
    if (!isChildRunning(child)) continue;
    try {
      process.kill(child.pid as number, signal);
    } catch {
      // Already gone.
    }
  }
  tracked.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else (start.mjs, a test runner) handles this signal and will stop the stack itself.
  if (process.listenerCount(signal) > 1) return;
  killTrackedChildren();
  uninstallHooks();
  // Default behaviour now that our handler is gone: the process dies of the same signal.
  process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killTrackedChildren);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', killTrackedChildren);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
}

// `exitSignal` is what the hook sends: SIGKILL, or SIGQUIT for postgres so its postmaster
// takes its backends down with it.
export function trackChild(child: ChildProcess, exitSignal: NodeJS.Signals): void {
  tracked.set(child, exitSignal);
  installHooks();
  child.once('exit', () => untrackChild(child));
}

export function untrackChild(child: ChildProcess): void {
  tracked.delete(child);
  if (tracked.size === 0) uninstallHooks();
}

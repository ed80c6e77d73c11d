import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { StackServer } from './stack.types';
import { assertPortFree } from './assert-port-free';
import { isChildRunning } from './is-child-running';
import { trackChild, untrackChild } from './child-reaper';
import { readLogTail } from './log-tail';
import { waitUntil } from './wait-until';

const READY_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 30;

export interface ServerLaunch {
  name: StackServer;
  command: string;
  args: string[];
  // Ports checked free before every spawn.
  ports: Array<{ label: StackServer | 'nats-monitor'; port: number }>;
  runAs?: { uid: number; gid: number };
  // Added to the environment the server inherits.
  env?: Record<string, string>;
  // Graceful stop: SIGTERM for nats/redis, SIGINT (fast shutdown) for postgres, whose SIGTERM
  // waits for every client to disconnect.
  stopSignal: NodeJS.Signals;
  // What the process-exit hook sends when nobody called stop().
  exitSignal: NodeJS.Signals;
  // Runs before every spawn (initdb, folder ownership).
  prepare?: () => Promise<void>;
  isReady: () => Promise<boolean>;
  // Runs once the server answers (create the database).
  afterReady?: () => Promise<void>;
}

// One server as a direct child process: stdout and stderr appended to its log file, stopped by pid.
export class ManagedServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly launch: ServerLaunch,
    readonly logFile: string,
    private readonly spawnOptions: { detached: boolean } = { detached: false },
  ) {}

  get pid(): number | undefined {
    return this.child && isChildRunning(this.child) ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    const { launch } = this;
    for (const { label, port } of launch.ports) await assertPortFree(label, port);
    await launch.prepare?.();

    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `\n--- ${new Date().toISOString()} ${launch.command} ${launch.args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(launch.command, launch.args, {
        ...(launch.env ? { env: { ...process.env, ...launch.env } } : {}),
        stdio: ['ignore', log, log],
        detached: this.spawnOptions.detached,
        uid: launch.runAs?.uid,
        gid: launch.runAs?.gid,
      });
    } finally {
      // The child holds its own copy of the descriptor.
      fs.closeSync(log);
    }
    this.child = child;
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        spawnError = error;
        resolve();
      });
      child.once('exit', () => resolve());
    });
    trackChild(child, launch.exitSignal);

    try {
      await waitUntil(`${launch.name} (pid ${child.pid})`, launch.isReady, {
        timeoutMs: READY_TIMEOUT_MS,
        abortReason: () => {
          if (spawnError) return new Error(`${launch.name} could not be started (${launch.command}): ${spawnError.message}`);
          if (isChildRunning(child)) return undefined;
          return new Error(
            `${launch.name} exited during startup (code ${child.exitCode}, signal ${child.signalCode}); ` +
              `last lines of ${this.logFile}:\n${readLogTail(this.logFile, LOG_TAIL_LINES)}`,
          );
        },
      });
      await launch.afterReady?.();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  // `signal` replaces the graceful one, e.g. SIGQUIT for a postgres that must not shut down cleanly.
  async stop(timeoutMs = 10_000, signal: NodeJS.Signals = this.launch.stopSignal): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (isChildRunning(child)) {
      child.kill(signal);
      const stoppedInTime = await Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
      ]);
      if (!stoppedInTime && isChildRunning(child)) child.kill('SIGKILL');
    }
    await this.exited;
    untrackChild(child);
  }

  logTail(lines = LOG_TAIL_LINES): string {
    return readLogTail(this.logFile, lines);
  }
}

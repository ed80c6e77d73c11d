import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { PortLeases } from '@overskill/runtime';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import { PreviewEventsRepository } from '../preview-events.repository';
import { PreviewFilesRepository } from '../preview-files.repository';
import type { PreviewOwner } from '../preview-store.repository';
import { DependencyStoreRepository, parseAppPackage, type AppPackage } from './dependency-store.repository';
import { DevOutput } from './dev-output';
import { DEV_SETTINGS, type DevSettings } from './dev-settings';
import { DevStateRepository, OWNER_TTL_MS, type DevState, type DevStatus } from './dev-state.repository';
import { PreviewKeepAliveService } from './preview-keep-alive.service';
import { devCommand, SANDBOX_HOST } from './sandbox-command';
import { SandboxProcessRepository, type SandboxExit, type SandboxHandle } from './sandbox-process.repository';

export const DEV_MODE = 'dev-server';

// Where a view of a dev-server preview goes.
export type DevTarget = { kind: 'local'; port: number } | { kind: 'forward'; listener: string } | { kind: 'unavailable'; state: DevState; reason: string };

interface LocalRun {
  owner: PreviewOwner;
  pkg: AppPackage & { devScript: string };
  state: DevState;
  reason: string;
  since: string;
  port?: number;
  handle?: SandboxHandle;
  output: DevOutput;
  restarts: number;
  stopping: boolean;
  waiters: Array<() => void>;
}

const TICK_MS = 1000;
const READY_POLL_MS = 100;
const BACKOFF_MS = 500;
const PACKAGE_CACHE_MS = 1000;
// A crashed preview stays crashed for views this long (no crash loop driven by page reloads);
// later views try again, so a fix the agent made is picked up. Restart tries at once.
const CRASH_RETRY_MS = 30_000;

function describeExit(exit: SandboxExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

// The dev-server previews this replica runs: dependencies from the shared store, a leased port,
// the sandboxed process, readiness, restarts after a crash with a growing pause, idle stop.
// States and owners are shared in Redis, so any replica answers for any app and forwards views.
@Injectable()
export class DevServerService implements OnModuleInit, OnApplicationShutdown {
  readonly replica = randomUUID();
  private readonly runs = new Map<string, LocalRun>();
  private readonly ports: PortLeases;
  private readonly packages = new Map<string, { at: number; pkg: AppPackage | undefined }>();
  private readonly seen = new Map<string, number>();
  private readonly available: boolean;
  private ticker?: NodeJS.Timeout;
  private listener = '';
  private readonly running: Gauge<'mode'>;
  private readonly starts: Counter<'mode' | 'outcome'>;
  private readonly timeToReady: Histogram<'mode'>;

  constructor(
    private readonly state: DevStateRepository,
    private readonly keepAlive: PreviewKeepAliveService,
    private readonly store: DependencyStoreRepository,
    private readonly processes: SandboxProcessRepository,
    private readonly files: PreviewFilesRepository,
    private readonly events: PreviewEventsRepository,
    @Inject(DEV_SETTINGS) private readonly settings: DevSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    this.ports = new PortLeases(settings.ports);
    this.available = settings.enabled && existsSync(settings.bwrap);
    const registers = [metrics.registry];
    this.running = new Gauge({ name: 'preview_running', help: 'Dev-server previews running on this replica, by mode', labelNames: ['mode'], registers });
    this.starts = new Counter({
      name: 'preview_starts_total',
      help: 'Preview starts by mode and outcome (ready, crashed, never_ready, install_failed, memory_limit)',
      labelNames: ['mode', 'outcome'],
      registers,
    });
    this.timeToReady = new Histogram({
      name: 'preview_time_to_ready_seconds',
      help: 'From a dev-server start (install included) to its port answering HTTP',
      labelNames: ['mode'],
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 45, 90],
      registers,
    });
    this.running.set({ mode: DEV_MODE }, 0);
  }

  onModuleInit(): void {
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    this.ticker.unref();
  }

  // Where other replicas forward this replica's views: its own preview listener.
  setListener(url: string): void {
    this.listener = url;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.ticker);
    await Promise.all([...this.runs.keys()].map((appId) => this.stop(appId, 'tool-runner shut down')));
  }

  get enabled(): boolean {
    return this.available;
  }

  // The app's package.json, when it has a dev script and this replica can run one (cached briefly:
  // every request of a preview asks).
  async devPackage(owner: PreviewOwner): Promise<(AppPackage & { devScript: string }) | undefined> {
    if (!this.available) return undefined;
    const cached = this.packages.get(owner.appId);
    if (cached && Date.now() - cached.at < PACKAGE_CACHE_MS) return cached.pkg?.devScript ? (cached.pkg as AppPackage & { devScript: string }) : undefined;
    let pkg: AppPackage | undefined;
    try {
      const file = await this.files.read(owner, 'package.json');
      const lock = await this.files.read(owner, 'package-lock.json');
      pkg = file.kind === 'file' ? parseAppPackage(file.content.toString('utf8'), lock.kind === 'file' ? lock.content.toString('utf8') : undefined) : undefined;
    } catch {
      pkg = undefined;
    }
    this.packages.set(owner.appId, { at: Date.now(), pkg });
    return pkg?.devScript ? (pkg as AppPackage & { devScript: string }) : undefined;
  }

  async status(appId: string): Promise<DevStatus | undefined> {
    const local = this.runs.get(appId);
    if (local) return this.statusOf(local);
    const shared = await this.state.status(appId);
    // A record left by a replica that went away without stopping (killed, lost its lease).
    if (shared && ['installing', 'starting', 'running'].includes(shared.state) && (await this.state.owner(appId)) !== shared.replica) {
      return { ...shared, state: 'stopped', reason: 'The tool-runner replica that ran it is gone; the next view starts it again' };
    }
    return shared;
  }

  // A view: the running dev server (started if need be, waited for up to PREVIEW_DEV_VIEW_WAIT_MS),
  // the replica that owns it, or why there is none. The headless check waits longer, and tries
  // again after a recent crash: the commit it checks may be the fix.
  async target(owner: PreviewOwner, pkg: AppPackage & { devScript: string }, opts: { waitMs?: number; retryCrashed?: boolean } = {}): Promise<DevTarget> {
    this.touch(owner.appId);
    let run = this.runs.get(owner.appId);
    if (!run) {
      const holder = await this.state.owner(owner.appId);
      if (holder && holder !== this.replica) return this.forwardTarget(owner.appId, holder);
      const last = holder ? undefined : await this.state.status(owner.appId);
      if (!opts.retryCrashed && last?.state === 'crashed' && Date.now() - Date.parse(last.since) < CRASH_RETRY_MS)
        return { kind: 'unavailable', state: 'crashed', reason: last.reason };
      if (!holder && !(await this.state.claim(owner.appId, this.replica))) return this.forwardTarget(owner.appId, (await this.state.owner(owner.appId)) ?? '');
      run = this.begin(owner, pkg);
    }
    if (run.state !== 'running') await this.waitForReady(run, opts.waitMs ?? this.settings.viewWaitMs);
    if (run.state === 'running' && run.port !== undefined) return { kind: 'local', port: run.port };
    return { kind: 'unavailable', state: run.state, reason: run.reason };
  }

  // POST …/preview/restart: here if this replica runs it, through Redis if another one does.
  async restart(owner: PreviewOwner, pkg: AppPackage & { devScript: string }): Promise<void> {
    const local = this.runs.get(owner.appId);
    if (local) {
      await this.stop(owner.appId, 'restarting on request', false);
    } else {
      const holder = await this.state.owner(owner.appId);
      if ((holder && holder !== this.replica) || !(await this.state.claim(owner.appId, this.replica))) return this.restartElsewhere(owner.appId);
    }
    this.touch(owner.appId, true);
    this.begin(owner, pkg);
  }

  // Stops the app's dev server on this replica; the reason is what the API shows.
  async stop(appId: string, reason: string, releaseOwner = true): Promise<void> {
    const run = this.runs.get(appId);
    if (!run) return;
    run.stopping = true;
    await run.handle?.stop();
    await run.output.flush();
    this.ports.release(run.port);
    run.port = undefined;
    this.runs.delete(appId);
    this.running.set({ mode: DEV_MODE }, this.runs.size);
    await this.publishState(run, 'stopped', reason);
    if (releaseOwner) await this.state.release(appId, this.replica);
  }

  // What this replica runs, for tests and the shutdown.
  get leasedPorts(): number {
    return this.ports.leased;
  }

  // The owner takes the request on its next tick; answered once it has (or after a lease's time).
  private async restartElsewhere(appId: string): Promise<void> {
    const before = (await this.state.status(appId))?.since;
    await this.state.requestRestart(appId);
    const deadline = Date.now() + OWNER_TTL_MS;
    while (Date.now() < deadline && (await this.state.status(appId))?.since === before) await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }

  private async forwardTarget(appId: string, holder: string): Promise<DevTarget> {
    const status = await this.state.status(appId);
    if (status?.replica === holder && status.listener) return { kind: 'forward', listener: status.listener };
    return { kind: 'unavailable', state: 'starting', reason: 'Another tool-runner replica is starting this preview' };
  }

  // At most one run per app on a replica: a view and a restart arriving together share it.
  private begin(owner: PreviewOwner, pkg: AppPackage & { devScript: string }): LocalRun {
    const existing = this.runs.get(owner.appId);
    if (existing) return existing;
    const output = new DevOutput((facts) => this.events.publish(owner, { console: facts, network: [], pageviews: [] }));
    const run: LocalRun = { owner, pkg, state: 'starting', reason: '', since: new Date().toISOString(), output, restarts: 0, stopping: false, waiters: [] };
    this.runs.set(owner.appId, run);
    this.running.set({ mode: DEV_MODE }, this.runs.size);
    void this.launch(run);
    return run;
  }

  private async launch(run: LocalRun): Promise<void> {
    const started = performance.now();
    const workspace = join(this.settings.workspacesDir, run.owner.appId);
    let nodeModules: string | undefined;
    try {
      if (run.pkg.dependencySet) {
        nodeModules = this.store.installed(run.pkg.dependencySet);
        if (!nodeModules) {
          await this.publishState(run, 'installing', 'Installing dependencies into the shared store');
          nodeModules = await this.store.ensure(run.pkg.dependencySet, workspace, (stream, line) => run.output.line(stream, line));
        }
      }
    } catch (err) {
      if (run.stopping) return;
      this.starts.inc({ mode: DEV_MODE, outcome: 'install_failed' });
      return this.crashed(run, `Dependencies could not be installed: ${(err as Error).message}${this.tailOf(run)}`);
    }
    if (run.stopping) return;
    try {
      run.port = await this.ports.lease();
    } catch (err) {
      this.starts.inc({ mode: DEV_MODE, outcome: 'crashed' });
      return this.crashed(run, `No port to run on: ${(err as Error).message}`);
    }
    await this.publishState(
      run,
      'starting',
      run.restarts ? `Restarting after a crash (${run.restarts} of ${this.settings.maxRestarts})` : `Starting \`${run.pkg.devScript}\``,
    );
    // Stopped while it was being prepared: nothing may be spawned for it any more.
    if (run.stopping) {
      this.ports.release(run.port);
      run.port = undefined;
      return;
    }
    const port = run.port;
    const scratch = nodeModules ? await this.store.scratchFor(run.owner.appId) : undefined;
    if (run.stopping) {
      this.ports.release(run.port);
      run.port = undefined;
      return;
    }
    const handle = this.processes.start(
      { bwrap: this.settings.bwrap, workspace, nodeModules, scratch, port, ...this.settings.limits, command: devCommand(run.pkg.devScript, port) },
      (stream, line) => run.output.line(stream, line),
    );
    run.handle = handle;
    void handle.exited.then((exit) => this.exited(run, handle, exit));
    const deadline = Date.now() + this.settings.readyTimeoutMs;
    while (run.handle === handle && !run.stopping && Date.now() < deadline) {
      if (await this.processes.answers(port, SANDBOX_HOST, 500)) {
        if (run.handle !== handle || run.stopping) return;
        this.starts.inc({ mode: DEV_MODE, outcome: 'ready' });
        this.timeToReady.observe({ mode: DEV_MODE }, (performance.now() - started) / 1000);
        await this.publishState(run, 'running', '');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    if (run.handle !== handle || run.stopping) return;
    this.starts.inc({ mode: DEV_MODE, outcome: 'never_ready' });
    run.stopping = true;
    await handle.stop();
    this.crashed(
      run,
      `The dev server did not answer HTTP on its port within ${Math.round(this.settings.readyTimeoutMs / 1000)} s; it was stopped${this.tailOf(run)}`,
    );
  }

  private exited(run: LocalRun, handle: SandboxHandle, exit: SandboxExit): void {
    if (run.handle !== handle) return;
    run.handle = undefined;
    this.ports.release(run.port);
    run.port = undefined;
    if (run.stopping) return;
    if (exit.memoryExceeded) {
      this.starts.inc({ mode: DEV_MODE, outcome: 'memory_limit' });
      return this.crashed(
        run,
        `The dev server used more than its memory limit (${Math.round(this.settings.limits.memoryBytes / 1024 ** 2)} MB) and was killed`,
      );
    }
    this.starts.inc({ mode: DEV_MODE, outcome: 'crashed' });
    if (run.restarts >= this.settings.maxRestarts) {
      return this.crashed(
        run,
        `The dev server ${describeExit(exit)}; it crashed ${run.restarts + 1} times in a row, so it is not restarted again (POST …/preview/restart tries again)${this.tailOf(run)}`,
      );
    }
    run.restarts++;
    void this.publishState(run, 'starting', `The dev server ${describeExit(exit)}; restarting (${run.restarts} of ${this.settings.maxRestarts})`);
    const pause = BACKOFF_MS * 2 ** (run.restarts - 1);
    setTimeout(() => !run.stopping && this.runs.get(run.owner.appId) === run && void this.launch(run), pause).unref();
  }

  // Stays as a record (the API shows it); the lease goes, so the next view or restart starts anew.
  private crashed(run: LocalRun, reason: string): void {
    run.stopping = true;
    this.ports.release(run.port);
    run.port = undefined;
    this.runs.delete(run.owner.appId);
    this.running.set({ mode: DEV_MODE }, this.runs.size);
    void run.output.flush();
    void this.publishState(run, 'crashed', reason).then(() => this.state.release(run.owner.appId, this.replica));
    this.logger.warn({ appId: run.owner.appId, reason }, 'dev-server preview crashed');
  }

  private tailOf(run: LocalRun): string {
    return run.output.tail.length ? `. Last output: ${run.output.tail.join(' | ')}` : '';
  }

  private statusOf(run: LocalRun): DevStatus {
    return { state: run.state, reason: run.reason, replica: this.replica, listener: this.listener, since: run.since };
  }

  private async publishState(run: LocalRun, state: DevState, reason: string): Promise<void> {
    [run.state, run.reason, run.since] = [state, reason, new Date().toISOString()];
    if (state === 'running' || state === 'crashed' || state === 'stopped') for (const wake of run.waiters.splice(0)) wake();
    await this.state.setStatus(run.owner.appId, this.statusOf(run)).catch((err) => this.logger.warn({ err }, 'dev-server state not saved'));
  }

  private waitForReady(run: LocalRun, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      run.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // Views and agent activity keep a dev server up: at once on this replica, through Redis for
  // the one that runs it.
  touch(appId: string, force = false): void {
    const now = Date.now();
    this.seen.set(appId, now);
    this.keepAlive.touch(appId, now, force);
  }

  // Renews the owner leases, takes restart requests other replicas left, stops idle servers.
  private async tick(): Promise<void> {
    for (const [appId, run] of this.runs) {
      try {
        if (!(await this.state.renew(appId, this.replica))) {
          // The lease lapsed (Redis was away longer than OWNER_TTL_MS): another replica may run it now.
          if (!(await this.state.claim(appId, this.replica))) await this.stop(appId, 'Another replica took this preview over', false);
          continue;
        }
        if (await this.state.takeRestart(appId)) {
          const pkg = (await this.devPackage(run.owner)) ?? run.pkg;
          await this.stop(appId, 'restarting on request', false);
          this.begin(run.owner, pkg);
          continue;
        }
        // Installing or starting is not idling: the time runs from the last view once it is up.
        const idle = Date.now() - Math.max(await this.state.lastSeen(appId), this.seen.get(appId) ?? 0, Date.parse(run.since));
        if (run.state === 'running' && idle > this.settings.idleStopMs) {
          await this.stop(
            appId,
            `Stopped after ${Math.round(this.settings.idleStopMs / 1000)} s without views or agent activity; the next view starts it again`,
          );
        }
      } catch (err) {
        this.logger.warn({ err, appId }, 'dev-server upkeep failed');
      }
    }
  }
}

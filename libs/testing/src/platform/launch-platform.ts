import { SERVICE_NAMES, type ServiceName } from '@overskill/contracts';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild, untrackChild } from '../stack/child-reaper';
import { freePort } from '../stack/free-port';
import { readLogTail } from '../stack/log-tail';
import { logChildOutput } from './child-log';

// Services that own a Postgres schema, in migration order.
export const SCHEMA_OWNERS: readonly ServiceName[] = ['gateway', 'orchestrator', 'analytics', 'backup'];

export interface PlatformOptions {
  // Repository root: the built services are under <root>/dist.
  root: string;
  natsUrl: string;
  // Each service connects with its own identity (the stack's seeds).
  natsSeeds: Partial<Record<ServiceName, string>>;
  databaseUrl: string;
  redisUrl: string;
  workspacesDir: string;
  backupDir: string;
  logDir: string;
  services?: readonly ServiceName[];
  ports?: Partial<Record<ServiceName, number>>;
  // Passed to every service (ANTHROPIC_BASE_URL, OTEL_EXPORTER_OTLP_ENDPOINT, LOG_LEVEL, …).
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface RunningPlatform {
  urls: Partial<Record<ServiceName, string>>;
  // tool-runner's app preview listener (PREVIEW_PORT), on a free port unless env sets one.
  previewPort: number;
  pids(): Partial<Record<ServiceName, number | undefined>>;
  start(service: ServiceName): Promise<void>;
  // SIGTERM (graceful), or SIGKILL to simulate a crash; how the process ended, when it was running.
  stopService(service: ServiceName, signal?: NodeJS.Signals): Promise<ServiceExit | undefined>;
  stop(): Promise<void>;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  // Killed with SIGKILL because it had not exited 10 s after the signal.
  forced: boolean;
}

export function serviceEntry(root: string, service: ServiceName, file: 'main' | 'migrate' = 'main'): string {
  return join(root, 'dist', 'services', service, 'src', `${file}.js`);
}

// The node flags every service runs with, as in its container (deploy/docker/node-flags: one per line).
export function serviceNodeFlags(root: string): string[] {
  const lines = readFileSync(join(root, 'deploy', 'docker', 'node-flags'), 'utf8').split('\n');
  return lines.map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
}

// `node migrate.js up` for every schema owner; throws with the output on failure.
export function runAllMigrations(root: string, databaseUrl: string): void {
  for (const service of SCHEMA_OWNERS) {
    const result = spawnSync(process.execPath, [serviceEntry(root, service, 'migrate'), 'up'], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`migrations of ${service} failed: ${result.stderr || result.stdout}`);
  }
}

export async function launchPlatform(opts: PlatformOptions): Promise<RunningPlatform> {
  const services = opts.services ?? SERVICE_NAMES;
  mkdirSync(opts.logDir, { recursive: true });
  mkdirSync(opts.workspacesDir, { recursive: true });
  mkdirSync(opts.backupDir, { recursive: true });
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const service of services) ports[service] = opts.ports?.[service] ?? (await freePort());
  const children = new Map<ServiceName, ChildProcess>();
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const service of services) urls[service] = `http://127.0.0.1:${ports[service]}`;
  const previewPort = Number(opts.env?.['PREVIEW_PORT'] ?? (await freePort()));

  const start = async (service: ServiceName): Promise<void> => {
    const entry = serviceEntry(opts.root, service);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (node deploy/local/build.mjs)`);
    const logFile = join(opts.logDir, `${service}.log`);
    const natsSeed = opts.natsSeeds[service];
    if (!natsSeed) throw new Error(`no NATS identity for ${service}: pass the stack's natsSeeds`);
    const child = spawn(process.execPath, [...serviceNodeFlags(opts.root), entry], {
      cwd: opts.root,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(ports[service]),
        HOST: '127.0.0.1',
        NATS_URL: opts.natsUrl,
        NATS_NKEY_SEED: natsSeed,
        NATS_NKEY_SEED_FILE: '',
        DATABASE_URL: opts.databaseUrl,
        REDIS_URL: opts.redisUrl,
        WORKSPACES_DIR: opts.workspacesDir,
        BACKUP_DIR: opts.backupDir,
        PREVIEW_PORT: String(previewPort),
        // Test traffic stays on loopback: the security audit's npm audit meets a closed port
        // (it reports the registry unreachable) unless a test points it at a fake.
        SECURITY_AUDIT_NPM_REGISTRY: 'http://127.0.0.1:9/',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    logChildOutput(child, logFile);
    trackChild(child, 'SIGTERM');
    children.set(service, child);
    await waitReady(service, `http://127.0.0.1:${ports[service]}`, child, logFile, opts.readyTimeoutMs ?? 60_000);
  };

  const stopService = async (service: ServiceName, signal: NodeJS.Signals = 'SIGTERM'): Promise<ServiceExit | undefined> => {
    const child = children.get(service);
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    const exited = new Promise<Omit<ServiceExit, 'forced'>>((resolve) => child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal })));
    child.kill(signal);
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      child.kill('SIGKILL');
    }, 10_000);
    const exit = await exited;
    clearTimeout(timer);
    untrackChild(child);
    return { ...exit, forced };
  };

  const platform: RunningPlatform = {
    urls,
    previewPort,
    pids: () => Object.fromEntries([...children].map(([name, child]) => [name, child.exitCode === null ? child.pid : undefined])),
    start,
    stopService,
    stop: async () => {
      await Promise.all(services.map((service) => stopService(service)));
    },
  };
  try {
    // In parallel: they don't depend on each other to become ready.
    await Promise.all(services.map(start));
  } catch (err) {
    await platform.stop();
    throw err;
  }
  return platform;
}

async function waitReady(service: ServiceName, url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${service} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${readLogTail(logFile, 30)}`);
    }
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service} was not ready within ${timeoutMs} ms:\n${readLogTail(logFile, 30)}`);
}

import type { StackNatsSeeds } from './nats-identities';

export type StackServer = 'nats' | 'postgres' | 'redis';

export const STACK_SERVERS: readonly StackServer[] = ['nats', 'postgres', 'redis'];

export interface StackOptions {
  dataDir: string;
  ports?: Partial<Record<StackServer, number>>;
  // NATS monitoring (/healthz, /varz, /jsz); a free port unless given.
  natsMonitorPort?: number;
  logDir?: string;
  // Run each server in its own process group, so a terminal's Ctrl-C reaches only the caller,
  // which then stops things in order (start.mjs: services first, infra last). Off for tests,
  // where Ctrl-C taking the servers down with Jest is what you want.
  isolateFromTerminalSignals?: boolean;
  // Serve NATS clients over TLS only, with this certificate (PEM files).
  natsTls?: { certFile: string; keyFile: string };
  // Extra PostgreSQL settings (`-c name=value`), e.g. WAL archiving for point-in-time restore.
  postgresSettings?: Record<string, string>;
}

export interface RunningStack {
  natsUrl: string;
  // nats-server refuses clients without one of these identities (docs/operations/deployment.md).
  natsSeeds: StackNatsSeeds;
  natsMonitorUrl: string;
  databaseUrl: string;
  redisUrl: string;
  dataDir: string;
  logDir: string;
  ports: Record<StackServer, number>;
  pids(): Record<StackServer, number | undefined>;
  // Graceful stop, then SIGKILL after a timeout.
  stopServer(name: StackServer): Promise<void>;
  // Same port and data as before.
  startServer(name: StackServer): Promise<void>;
  // All three servers; safe to call more than once.
  stop(): Promise<void>;
}

export interface ServerBinaries {
  natsServer: string;
  redisServer: string;
  postgresBin: string;
}

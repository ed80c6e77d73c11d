import fs from 'node:fs';
import path from 'node:path';
import { findServerBinaries } from './find-server-binaries';
import { freePort } from './free-port';
import { ManagedServer } from './managed-server';
import { postgresLaunch, postgresUrl } from './postgres-server';
import { chownRecursive, findPostgresSystemUser, makeAncestorsTraversable } from './postgres-system-user';

export interface RunningPostgres {
  databaseUrl: string;
  port: number;
  // The data folder (PGDATA).
  clusterDir: string;
  // Immediate shutdown (SIGQUIT): no checkpoint, no last archiving, as if the host died.
  crash(): Promise<void>;
  stop(): Promise<void>;
}

// One PostgreSQL server of its own (a cluster a test may destroy), with extra settings.
export async function startPostgres(options: { dataDir: string; port?: number; settings?: Record<string, string> }): Promise<RunningPostgres> {
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const logFile = path.join(dataDir, 'postgres.log');
  const server = new ManagedServer(postgresLaunch({ binDir: findServerBinaries().postgresBin, port, dataDir, logFile, settings: options.settings }), logFile);
  await server.start();
  return {
    databaseUrl: postgresUrl(port),
    port,
    clusterDir: path.join(dataDir, 'postgres'),
    crash: () => server.stop(10_000, 'SIGQUIT'),
    stop: () => server.stop(),
  };
}

// A folder the server's user may write (the WAL archive of a test cluster when tests run as root).
export function makeServerWritable(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) return;
  chownRecursive(dir, findPostgresSystemUser());
  makeAncestorsTraversable(dir);
}

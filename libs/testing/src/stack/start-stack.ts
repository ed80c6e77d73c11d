import fs from 'node:fs';
import path from 'node:path';
import { findServerBinaries } from './find-server-binaries';
import { freePort } from './free-port';
import { ManagedServer } from './managed-server';
import { createStackNatsAuth } from './nats-identities';
import { natsLaunch } from './nats-server';
import { postgresLaunch, postgresUrl } from './postgres-server';
import { redisLaunch } from './redis-server';
import { STACK_SERVERS, type RunningStack, type StackOptions, type StackServer } from './stack.types';

// nats-server, PostgreSQL and Redis as direct child processes on 127.0.0.1, each waited for
// until it really answers.
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const binaries = findServerBinaries();
  const dataDir = path.resolve(options.dataDir);
  const logDir = path.resolve(options.logDir ?? path.join(dataDir, 'logs'));
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(logDir, { recursive: true });

  const [natsPort, postgresPort, redisPort, natsMonitorPort] = await choosePorts([
    options.ports?.nats,
    options.ports?.postgres,
    options.ports?.redis,
    options.natsMonitorPort,
  ]);
  const ports: Record<StackServer, number> = { nats: natsPort, postgres: postgresPort, redis: redisPort };
  const logFile = (name: StackServer) => path.join(logDir, `${name}.log`);
  const spawnOptions = { detached: options.isolateFromTerminalSignals ?? false };
  const natsAuth = createStackNatsAuth();

  const servers: Record<StackServer, ManagedServer> = {
    nats: new ManagedServer(
      natsLaunch({ binary: binaries.natsServer, port: natsPort, monitorPort: natsMonitorPort, dataDir, authorization: natsAuth.config, tls: options.natsTls }),
      logFile('nats'),
      spawnOptions,
    ),
    postgres: new ManagedServer(
      postgresLaunch({ binDir: binaries.postgresBin, port: postgresPort, dataDir, logFile: logFile('postgres'), settings: options.postgresSettings }),
      logFile('postgres'),
      spawnOptions,
    ),
    redis: new ManagedServer(redisLaunch({ binary: binaries.redisServer, port: redisPort, dataDir }), logFile('redis'), spawnOptions),
  };
  const stopAll = async () => {
    await Promise.all(STACK_SERVERS.map((name) => servers[name].stop()));
  };

  // Started together; if one fails the others are stopped before the error surfaces.
  const started = await Promise.allSettled(STACK_SERVERS.map((name) => servers[name].start()));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    await stopAll();
    throw failure.reason;
  }

  return {
    natsUrl: `nats://127.0.0.1:${natsPort}`,
    natsSeeds: natsAuth.seeds,
    natsMonitorUrl: `http://127.0.0.1:${natsMonitorPort}`,
    databaseUrl: postgresUrl(postgresPort),
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    dataDir,
    logDir,
    ports,
    pids: () => ({ nats: servers.nats.pid, postgres: servers.postgres.pid, redis: servers.redis.pid }),
    stopServer: (name) => servers[name].stop(),
    startServer: (name) => servers[name].start(),
    stop: stopAll,
  };
}

// Given ports are kept; the rest are free ports, distinct from each other and from the given ones.
async function choosePorts(requested: Array<number | undefined>): Promise<number[]> {
  const taken = new Set(requested.filter((port): port is number => port !== undefined));
  const chosen: number[] = [];
  for (const port of requested) {
    if (port !== undefined) {
      chosen.push(port);
      continue;
    }
    let candidate = await freePort();
    while (taken.has(candidate)) candidate = await freePort();
    taken.add(candidate);
    chosen.push(candidate);
  }
  return chosen;
}

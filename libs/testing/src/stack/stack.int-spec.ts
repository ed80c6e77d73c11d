import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { connect, nkeyAuthenticator } from 'nats';
import { TEST_HARNESS_IDENTITY } from './nats-identities';
import { withPostgresClient } from './postgres-client';
import { PortInUseError, freePort, startStack, type RunningStack, type StackServer } from './index';

const STARTUP_TIMEOUT_MS = 120_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Not fetch: its pooled keep-alive socket would hold Jest open for seconds after the tests.
function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
      .once('error', reject);
  });
}

async function redisPing(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    redis.disconnect();
  }
}

function queryOne(databaseUrl: string, sql: string): Promise<Record<string, unknown> | undefined> {
  return withPostgresClient(databaseUrl, async (client) => (await client.query(sql)).rows[0]);
}

function livePids(stack: RunningStack): number[] {
  return Object.values(stack.pids()).filter((pid): pid is number => pid !== undefined);
}

describe('startStack', () => {
  let dataDir: string;
  let stack: RunningStack;

  beforeAll(async () => {
    dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'overskill-stack-spec-'));
    stack = await startStack({ dataDir });
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.stop();
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  });

  it('runs NATS with JetStream enabled', async () => {
    await expect(httpStatus(`${stack.natsMonitorUrl}/healthz`)).resolves.toBe(200);

    const nc = await connect({ servers: stack.natsUrl, authenticator: nkeyAuthenticator(new TextEncoder().encode(stack.natsSeeds[TEST_HARNESS_IDENTITY])) });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = await jsm.streams.add({ name: 'STACK_SPEC', subjects: ['stack.spec.>'] });
      expect(stream.config.name).toBe('STACK_SPEC');
      await nc.jetstream().publish('stack.spec.hello', new TextEncoder().encode('hi'));
      expect((await jsm.streams.info('STACK_SPEC')).state.messages).toBe(1);
    } finally {
      await nc.close();
    }
  });

  it('runs PostgreSQL with the overskill database and user', async () => {
    const row = await queryOne(stack.databaseUrl, 'SELECT current_database() AS db, current_user AS who');
    expect(row).toEqual({ db: 'overskill', who: 'overskill' });
  });

  it('rejects a wrong PostgreSQL password over TCP', async () => {
    const wrongUrl = stack.databaseUrl.replace('overskill:overskill@', 'overskill:wrong@');
    await expect(queryOne(wrongUrl, 'SELECT 1')).rejects.toThrow(/password authentication failed/);
  });

  it('runs Redis', async () => {
    await expect(redisPing(stack.redisUrl)).resolves.toBe('PONG');
  });

  it('binds every server to 127.0.0.1 only', () => {
    const listening = fs.readFileSync('/proc/net/tcp', 'utf8') + fs.readFileSync('/proc/net/tcp6', 'utf8');
    for (const port of Object.values(stack.ports)) {
      const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
      // State 0A = LISTEN; 0100007F = 127.0.0.1.
      const listeners = listening.split('\n').filter((line) => line.includes(`:${hexPort} `) && / 0A /.test(line));
      expect(listeners.length).toBeGreaterThan(0);
      for (const line of listeners) expect(line.trim().split(/\s+/)[1]).toBe(`0100007F:${hexPort}`);
    }
  });

  it('stops and restarts Redis on the same port', async () => {
    const before = stack.pids().redis!;
    await stack.stopServer('redis');
    expect(stack.pids().redis).toBeUndefined();
    expect(isAlive(before)).toBe(false);
    await expect(redisPing(stack.redisUrl)).rejects.toThrow();

    await stack.startServer('redis');
    expect(stack.pids().redis).toEqual(expect.any(Number));
    await expect(redisPing(stack.redisUrl)).resolves.toBe('PONG');
  });

  it('stops and restarts PostgreSQL keeping its data', async () => {
    await queryOne(stack.databaseUrl, "CREATE TABLE survivor AS SELECT 'still here'::text AS note");
    const before = stack.pids().postgres!;
    await stack.stopServer('postgres');
    expect(stack.pids().postgres).toBeUndefined();
    expect(isAlive(before)).toBe(false);
    await expect(queryOne(stack.databaseUrl, 'SELECT 1')).rejects.toThrow();

    await stack.startServer('postgres');
    await expect(queryOne(stack.databaseUrl, 'SELECT note FROM survivor')).resolves.toEqual({ note: 'still here' });
  });

  it('stop() leaves no server process alive and can be called twice', async () => {
    const pids = livePids(stack);
    expect(pids).toHaveLength(3);
    await stack.stop();
    await stack.stop();
    expect(livePids(stack)).toEqual([]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it(
    'reuses the data folder on a second start',
    async () => {
      const again = await startStack({ dataDir });
      try {
        await expect(queryOne(again.databaseUrl, 'SELECT note FROM survivor')).resolves.toEqual({ note: 'still here' });
      } finally {
        await again.stop();
      }
    },
    STARTUP_TIMEOUT_MS,
  );

  it(
    'refuses a port that is already taken, naming it, and leaves nothing running',
    async () => {
      const squatter = net.createServer();
      const port = await freePort();
      await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
      const before = new Set(childPids());
      try {
        const attempt = startStack({ dataDir, ports: { redis: port } });
        await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
        await expect(attempt).rejects.toMatchObject({ server: 'redis' satisfies StackServer, port });
      } finally {
        squatter.close();
      }
      expect(childPids().filter((pid) => !before.has(pid))).toEqual([]);
    },
    STARTUP_TIMEOUT_MS,
  );
});

// Direct children of this Jest worker, from /proc.
function childPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Field 4 (ppid) comes after the parenthesised command name.
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

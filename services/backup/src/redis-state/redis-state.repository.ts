import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { runTool } from '../tools/run-tool';

// Durable Redis state (see docs/decisions/0014): spend ledgers, daily usage and the active model
// switch. Caches, rate windows and locks are rebuilt by the services and never restored.
export const DURABLE_REDIS_PATTERNS = ['ai:spend:*', 'ai:usage:*', 'ai:model:active-alias'];

async function waitForSocket(socket: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} before listening`);
    if (
      await stat(socket).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis-server did not open its socket within 5 s');
}

// Redis's own formats end to end: keys move with DUMP/RESTORE through a private redis-server
// (unix socket only, no TCP port) that writes or reads a real RDB file, so `redis-check-rdb` can
// check the artifact and any Redis can load it.
@Injectable()
export class RedisStateRepository {
  constructor(@Inject(REDIS) private readonly live: Redis) {}

  private async withPrivateServer<T>(rdbSource: string | null, fn: (r: Redis, dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'overskill-rdb-'));
    if (rdbSource) await copyFile(rdbSource, join(dir, 'dump.rdb'));
    const socket = join(dir, 'redis.sock');
    const child: ChildProcess = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', socket, '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const client = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await waitForSocket(socket, child);
      await client.connect();
      return await fn(client, dir);
    } finally {
      client.disconnect();
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async keysOf(r: Redis): Promise<string[]> {
    const keys: string[] = [];
    for (const pattern of DURABLE_REDIS_PATTERNS) {
      let cursor = '0';
      do {
        const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
    }
    return [...new Set(keys)];
  }

  private async copyKeys(from: Redis, to: Redis, keys: string[]): Promise<number> {
    let copied = 0;
    for (const key of keys) {
      const [payload, ttl] = await Promise.all([from.dumpBuffer(key), from.pttl(key)]);
      if (!payload) continue; // expired between SCAN and DUMP
      await to.restore(key, ttl > 0 ? ttl : 0, payload, 'REPLACE');
      copied += 1;
    }
    return copied;
  }

  // Writes the durable keys of the live Redis to `file` as an RDB; returns how many.
  async save(file: string): Promise<number> {
    const keys = await this.keysOf(this.live);
    return this.withPrivateServer(null, async (priv, dir) => {
      const n = await this.copyKeys(this.live, priv, keys);
      await priv.save();
      await copyFile(join(dir, 'dump.rdb'), file);
      return n;
    });
  }

  async check(file: string): Promise<void> {
    const { stdout } = await runTool('redis-check-rdb', [file]);
    if (!/RDB looks OK/.test(stdout)) throw new Error(`redis-check-rdb did not accept ${file}: ${stdout.trim().split('\n').pop()}`);
  }

  // Keys of the RDB into another Redis (a scratch URL) or the live one, replacing same-named keys.
  async load(file: string, targetUrl?: string): Promise<number> {
    const target = targetUrl ? new Redis(targetUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }) : this.live;
    try {
      if (targetUrl) await target.connect();
      return await this.withPrivateServer(file, async (priv) => this.copyKeys(priv, target, await this.keysOf(priv)));
    } finally {
      if (targetUrl) target.disconnect();
    }
  }

  async ping(): Promise<void> {
    await this.live.ping();
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { REDIS } from './redis.token';

export interface AppWriteLockOptions {
  // How long to wait for the lock before giving up with APP_BUSY.
  waitMs?: number;
  // Lease; renewed while the work runs, so a crashed holder frees the app after at most this.
  leaseMs?: number;
}

// Release and renew only if we still hold it: another holder's lock is never touched.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

// Serializes writes to one app's workspace across every replica of every service that writes
// there (tool-runner, git-service, backup). Reads don't take it.
@Injectable()
export class AppWriteLock {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async withLock<T>(appId: string, work: () => Promise<T>, opts: AppWriteLockOptions = {}): Promise<T> {
    const key = `overskill:lock:app:${appId}`;
    const token = randomUUID();
    const leaseMs = opts.leaseMs ?? 30_000;
    const deadline = Date.now() + (opts.waitMs ?? 15_000);
    let delay = 5;
    for (;;) {
      let acquired: string | null;
      try {
        acquired = await this.redis.set(key, token, 'PX', leaseMs, 'NX');
      } catch {
        throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'Redis is unavailable, so writes to apps are paused; try again shortly');
      }
      if (acquired === 'OK') break;
      if (Date.now() >= deadline) throw new AppError(ErrorCode.APP_BUSY, `App ${appId} is busy with another change; try again`);
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 200);
    }
    const renew = setInterval(() => void this.redis.eval(RENEW, 1, key, token, String(leaseMs)).catch(() => undefined), Math.max(leaseMs / 3, 50));
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}

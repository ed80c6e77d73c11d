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

// What a holder has while its work runs. A holder can lose the lock without knowing: a pause
// longer than the lease (GC, SIGSTOP, a slow disk) or a Redis failover lets another holder in.
// The workspace cannot check a fencing token, so every write asks first: assertHeld() confirms
// in Redis that the lock is still this holder's and extends it by a full lease in the same
// step, so the write that follows runs inside a lease nobody else can take. Lost is final.
export interface AppLease {
  // Aborted as soon as the lock is known to be lost (a renewal found another holder).
  readonly signal: AbortSignal;
  assertHeld(): Promise<void>;
}

// Release and renew only if we still hold it: another holder's lock is never touched.
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

function leaseLost(appId: string): AppError {
  return new AppError(
    ErrorCode.APP_LEASE_LOST,
    `This change to app ${appId} lost its write lock (paused past its lease, or Redis failed over) and was stopped before writing; try again`,
  );
}

class RedisAppLease implements AppLease {
  private readonly controller = new AbortController();
  private readonly renewTimer: NodeJS.Timeout;
  // Monotonic time until which Redis last confirmed the lock as ours.
  private heldUntil: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly token: string,
    private readonly appId: string,
    private readonly leaseMs: number,
    acquiredAt: number,
  ) {
    this.heldUntil = acquiredAt + leaseMs;
    this.renewTimer = setInterval(() => void this.renew().catch(() => undefined), Math.max(leaseMs / 3, 50));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async assertHeld(): Promise<void> {
    if (this.signal.aborted) throw leaseLost(this.appId);
    let stillOurs: boolean;
    try {
      stillOurs = await this.renew();
    } catch {
      // Redis cannot confirm; the lease is trusted only while it has not run out.
      stillOurs = performance.now() < this.heldUntil;
    }
    if (!stillOurs) throw leaseLost(this.appId);
  }

  release(): Promise<unknown> {
    clearInterval(this.renewTimer);
    return this.redis.eval(RELEASE, 1, this.key, this.token).catch(() => undefined);
  }

  private async renew(): Promise<boolean> {
    if (this.signal.aborted) return false;
    const asked = performance.now();
    const renewed = (await this.redis.eval(RENEW, 1, this.key, this.token, String(this.leaseMs))) === 1;
    if (renewed) this.heldUntil = asked + this.leaseMs;
    else this.lose();
    return renewed;
  }

  private lose(): void {
    clearInterval(this.renewTimer);
    this.controller.abort(leaseLost(this.appId));
  }
}

// Serializes writes to one app's workspace across every replica of every service that writes
// there (tool-runner, git-service, backup). Reads don't take it.
@Injectable()
export class AppWriteLock {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async withLock<T>(appId: string, work: (lease: AppLease) => Promise<T>, opts: AppWriteLockOptions = {}): Promise<T> {
    const key = `overskill:lock:app:${appId}`;
    const token = randomUUID();
    const leaseMs = opts.leaseMs ?? 30_000;
    const deadline = Date.now() + (opts.waitMs ?? 15_000);
    let delay = 5;
    let askedAt: number;
    for (;;) {
      let acquired: string | null;
      askedAt = performance.now();
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
    const lease = new RedisAppLease(this.redis, key, token, appId, leaseMs, askedAt);
    try {
      return await work(lease);
    } finally {
      await lease.release();
    }
  }
}

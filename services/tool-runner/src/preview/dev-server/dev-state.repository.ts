import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type Redis from 'ioredis';

export type DevState = 'installing' | 'starting' | 'running' | 'crashed' | 'stopped';

export interface DevStatus {
  state: DevState;
  reason: string;
  // The replica running it, and where that replica's preview listener answers.
  replica: string;
  listener: string;
  since: string;
}

// Who owns an app's dev server: one replica holds a lease it renews while the process lives.
export const OWNER_TTL_MS = 10_000;

const ownerKey = (appId: string) => `preview:dev:owner:${appId}`;
const statusKey = (appId: string) => `preview:dev:status:${appId}`;
const seenKey = (appId: string) => `preview:dev:seen:${appId}`;
const restartKey = (appId: string) => `preview:dev:restart:${appId}`;
const STATUS_TTL_SECONDS = 7 * 86_400;

// The dev servers' shared records in Redis: owner leases, states with reasons, the last view or
// agent activity, and restart requests for the owner. Every replica reads them, so any replica
// answers the API and forwards a view to the owner.
@Injectable()
export class DevStateRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async claim(appId: string, replica: string): Promise<boolean> {
    return (await this.redis.set(ownerKey(appId), replica, 'PX', OWNER_TTL_MS, 'NX')) === 'OK';
  }

  // Renews the lease if this replica still holds it.
  async renew(appId: string, replica: string): Promise<boolean> {
    const renewed = await this.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
      1,
      ownerKey(appId),
      replica,
      OWNER_TTL_MS,
    );
    return Number(renewed) === 1;
  }

  async release(appId: string, replica: string): Promise<void> {
    await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, ownerKey(appId), replica);
  }

  async owner(appId: string): Promise<string | undefined> {
    return (await this.redis.get(ownerKey(appId))) ?? undefined;
  }

  async setStatus(appId: string, status: DevStatus): Promise<void> {
    await this.redis.set(statusKey(appId), JSON.stringify(status), 'EX', STATUS_TTL_SECONDS);
  }

  async status(appId: string): Promise<DevStatus | undefined> {
    const raw = await this.redis.get(statusKey(appId));
    return raw ? (JSON.parse(raw) as DevStatus) : undefined;
  }

  async touch(appId: string, at = Date.now()): Promise<void> {
    await this.redis.set(seenKey(appId), String(at), 'EX', STATUS_TTL_SECONDS);
  }

  async lastSeen(appId: string): Promise<number> {
    return Number((await this.redis.get(seenKey(appId))) ?? 0);
  }

  async requestRestart(appId: string): Promise<void> {
    await this.redis.set(restartKey(appId), '1', 'PX', OWNER_TTL_MS * 3);
  }

  // True once per request: the owner takes it.
  async takeRestart(appId: string): Promise<boolean> {
    return (await this.redis.del(restartKey(appId))) === 1;
  }
}

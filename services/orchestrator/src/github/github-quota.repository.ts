import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type { Redis } from 'ioredis';

export interface Quota {
  remaining: number;
  resetAt: number;
}

const QUOTA = 'github:quota:';
const HOLD = 'github:hold:';

// Keeps the lowest `remaining` seen for a window (answers from several replicas arrive out of
// order); an answer about another window replaces it. Expires with the window.
const RECORD = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, ':')
  local remaining = tonumber(string.sub(cur, 1, sep - 1))
  local reset = tonumber(string.sub(cur, sep + 1))
  if reset == tonumber(ARGV[2]) and remaining <= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PXAT', ARGV[2])
return 1`;

// A hold (a secondary limit's retry-after) only ever moves later.
const HOLD_UNTIL = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return 1`;

// Every replica's view of each GitHub account's quota, in Redis: what the last answers' x-ratelimit-*
// headers said (until the window resets) and how long a secondary limit asked everyone to wait.
@Injectable()
export class GitHubQuotaRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async record(account: string, quota: Quota): Promise<void> {
    if (quota.resetAt <= Date.now()) return;
    await this.redis.eval(RECORD, 1, QUOTA + account, String(quota.remaining), String(quota.resetAt));
  }

  async read(account: string): Promise<Quota | undefined> {
    return parse(await this.redis.get(QUOTA + account));
  }

  // Every account's quota seen by any replica (a handful of keys: one per installation or token).
  async all(): Promise<Array<Quota & { account: string }>> {
    const out: Array<Quota & { account: string }> = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${QUOTA}*`, 'COUNT', 200);
      cursor = next;
      const values = keys.length > 0 ? await this.redis.mget(...keys) : [];
      keys.forEach((key, i) => {
        const quota = parse(values[i] ?? null);
        if (quota) out.push({ account: key.slice(QUOTA.length), ...quota });
      });
    } while (cursor !== '0');
    return out;
  }

  async hold(account: string, until: number): Promise<void> {
    if (until <= Date.now()) return;
    await this.redis.eval(HOLD_UNTIL, 1, HOLD + account, String(until));
  }

  async heldUntil(account: string): Promise<number | undefined> {
    const until = Number(await this.redis.get(HOLD + account));
    return until > Date.now() ? until : undefined;
  }
}

function parse(value: string | null): Quota | undefined {
  if (!value) return undefined;
  const [remaining, resetAt] = value.split(':').map(Number);
  return Number.isFinite(remaining) && Number.isFinite(resetAt) ? { remaining: remaining as number, resetAt: resetAt as number } : undefined;
}

import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { REDIS } from '@overskill/persistence';
import type { ChainableCommander, default as Redis } from 'ioredis';

// Rate-limit windows, spend budgets and daily usage in Redis, shared by every replica. Admission
// and settlement are each one Lua script, so concurrent requests on any replica can never both
// slip under a limit.

// A deferred settlement waits at most this long for the next admission to ride along with.
export const SETTLE_DELAY_MS = 20;

export interface RateScope {
  // Names the scope in a refusal: team, key.
  scope: string;
  id: string;
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface BudgetScope {
  scope: string;
  id: string;
  // 0 = no cap (the counter still runs, for the usage summary).
  limitNano: number;
  // The counter's window: a UTC day, or the run's life.
  period: string;
  ttlSeconds: number;
}

export interface Admission {
  rate: RateScope[];
  budgets: BudgetScope[];
  estimatedTokens: number;
  estimatedCostNano: number;
  // Epoch minute of the rate window.
  minute: number;
}

export type AdmissionResult =
  | { ok: true }
  | { ok: false; reason: 'rate_limit'; scope: string; dimension: 'requests' | 'tokens' }
  | { ok: false; reason: 'budget'; scope: string; committedNano: number; limitNano: number };

export interface Settlement {
  admission: Admission;
  actualTokens: number;
  actualCostNano: number;
  team: string;
  day: string;
  usage: { requests: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; cacheHits: number };
}

const ADMIT = `
local nrl = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
local estTokens = tonumber(ARGV[3])
local estCost = tonumber(ARGV[4])
local a = 5
for k = 1, nrl do
  local rpm = tonumber(ARGV[a]); local tpm = tonumber(ARGV[a + 1]); a = a + 2
  local h = redis.call('HMGET', KEYS[k], 'r', 't')
  local r = tonumber(h[1] or '0'); local t = tonumber(h[2] or '0')
  if rpm > 0 and r + 1 > rpm then return {'rate', k, 'requests'} end
  if tpm > 0 and t > 0 and t + estTokens > tpm then return {'rate', k, 'tokens'} end
end
local b = a
for k = 1, nb do
  local limit = tonumber(ARGV[b]); b = b + 2
  if limit > 0 then
    local c = tonumber(redis.call('GET', KEYS[nrl + k]) or '0')
    if c + estCost > limit then return {'budget', k, tostring(c), tostring(limit)} end
  end
end
for k = 1, nrl do
  redis.call('HINCRBY', KEYS[k], 'r', 1)
  redis.call('HINCRBY', KEYS[k], 't', estTokens)
  redis.call('EXPIRE', KEYS[k], 120)
end
b = a
for k = 1, nb do
  local ttl = tonumber(ARGV[b + 1]); b = b + 2
  redis.call('INCRBY', KEYS[nrl + k], estCost)
  redis.call('EXPIRE', KEYS[nrl + k], ttl)
end
return {'ok'}
`;

// Replaces each estimate by what the call really cost, and adds the call to its team's day. Takes
// every call settled in one turn of the event loop at once (ARGV[1] of them): one round trip and
// one script run instead of one per call.
const SETTLE = `
local n = tonumber(ARGV[1])
local a = 2
local k = 0
for i = 1, n do
  local nrl = tonumber(ARGV[a]); local nb = tonumber(ARGV[a + 1])
  local tokenDelta = tonumber(ARGV[a + 2]); local costDelta = tonumber(ARGV[a + 3])
  for j = 1, nrl do
    k = k + 1
    if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('HINCRBY', KEYS[k], 't', tokenDelta) end
  end
  for j = 1, nb do
    k = k + 1
    redis.call('INCRBY', KEYS[k], costDelta)
  end
  k = k + 1
  local u = KEYS[k]
  redis.call('HINCRBY', u, 'requests', ARGV[a + 4])
  redis.call('HINCRBY', u, 'input_tokens', ARGV[a + 5])
  redis.call('HINCRBY', u, 'output_tokens', ARGV[a + 6])
  redis.call('HINCRBY', u, 'cache_read_tokens', ARGV[a + 7])
  redis.call('HINCRBY', u, 'cache_write_tokens', ARGV[a + 8])
  redis.call('HINCRBY', u, 'cost_nano', ARGV[a + 9])
  redis.call('HINCRBY', u, 'cache_hits', ARGV[a + 10])
  redis.call('EXPIRE', u, 3456000)
  a = a + 11
end
return n
`;

function rateKey(scope: RateScope, minute: number): string {
  return `ai:rl:${scope.scope}:${scope.id}:${minute}`;
}

export function budgetKey(scope: { scope: string; id: string; period: string }): string {
  return `ai:spend:${scope.scope}:${scope.id}:${scope.period}`;
}

function usageKey(team: string, day: string): string {
  return `ai:usage:${team}:${day}`;
}

type LedgerPipeline = ChainableCommander & {
  aiAdmit(numKeys: number, ...args: Array<string | number>): LedgerPipeline;
  aiSettle(numKeys: number, ...args: Array<string | number>): LedgerPipeline;
};

type LedgerRedis = Redis & {
  aiAdmit(numKeys: number, ...args: Array<string | number>): Promise<Array<string | number>>;
  aiSettle(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

interface QueuedAdmission {
  keys: string[];
  args: Array<string | number>;
  resolve: (reply: Array<string | number>) => void;
  reject: (err: unknown) => void;
}

interface Deferred {
  settlements: Settlement[];
  onFailure: (err: unknown) => void;
}

@Injectable()
export class UsageLedgerRepository implements BeforeApplicationShutdown {
  private readonly redis: LedgerRedis;
  // Settlements not yet sent: they go out in the same write as this replica's next admission (or
  // read of the counters), ahead of it, or after SETTLE_DELAY_MS when none comes.
  private deferred: Deferred[] = [];
  private timer?: NodeJS.Timeout;
  private admissions: QueuedAdmission[] = [];

  constructor(@Inject(REDIS) redis: Redis) {
    redis.defineCommand('aiAdmit', { lua: ADMIT });
    redis.defineCommand('aiSettle', { lua: SETTLE });
    this.redis = redis as LedgerRedis;
  }

  async admit(admission: Admission): Promise<AdmissionResult> {
    const keys = [...admission.rate.map((s) => rateKey(s, admission.minute)), ...admission.budgets.map(budgetKey)];
    const args: Array<string | number> = [admission.rate.length, admission.budgets.length, admission.estimatedTokens, admission.estimatedCostNano];
    for (const s of admission.rate) args.push(s.requestsPerMinute, s.tokensPerMinute);
    for (const s of admission.budgets) args.push(s.limitNano, s.ttlSeconds);
    const reply = await new Promise<Array<string | number>>((resolve, reject) => {
      if (this.admissions.push({ keys, args, resolve, reject }) === 1) queueMicrotask(() => this.sendAdmissions());
    });
    if (reply[0] === 'ok') return { ok: true };
    const index = Number(reply[1]) - 1;
    if (reply[0] === 'rate')
      return { ok: false, reason: 'rate_limit', scope: admission.rate[index].scope, dimension: reply[2] === 'tokens' ? 'tokens' : 'requests' };
    return { ok: false, reason: 'budget', scope: admission.budgets[index].scope, committedNano: Number(reply[2]), limitNano: Number(reply[3]) };
  }

  // The admissions asked for in one run of the microtask queue (the calls of one NATS read reach
  // here together) and the deferred settlements go in one pipelined write, the settlements first.
  // Each admission is still its own script run, in the order asked.
  private sendAdmissions(): void {
    const batch = this.admissions.splice(0);
    const pending = this.takeDeferred();
    if (!pending && batch.length === 1) {
      const [one] = batch;
      this.redis.aiAdmit(one.keys.length, ...one.keys, ...one.args).then(one.resolve, one.reject);
      return;
    }
    const pipeline = this.redis.pipeline() as LedgerPipeline;
    if (pending) {
      const settle = settleCommand(pending.flatMap((d) => d.settlements));
      pipeline.aiSettle(settle.keys.length, ...settle.keys, ...settle.args);
    }
    for (const a of batch) pipeline.aiAdmit(a.keys.length, ...a.keys, ...a.args);
    pipeline.exec().then(
      (results) => {
        const replies = results ?? [];
        if (pending) {
          const settled = replies.shift();
          if (!settled || settled[0]) failDeferred(pending, settled?.[0] ?? new Error('no reply to the settlement'));
        }
        batch.forEach((a, i) => {
          const admitted = replies[i];
          if (!admitted || admitted[0]) a.reject(admitted?.[0] ?? new Error('no reply to the admission'));
          else a.resolve(admitted[1] as Array<string | number>);
        });
      },
      (err: unknown) => {
        if (pending) failDeferred(pending, err);
        for (const a of batch) a.reject(err);
      },
    );
  }

  settle(s: Settlement): Promise<void> {
    return this.settleAll([s]);
  }

  /** Settles several calls in one script run (a failure leaves counted every reservation the script had not yet replaced). */
  async settleAll(settlements: Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    const { keys, args } = settleCommand(settlements);
    await this.redis.aiSettle(keys.length, ...keys, ...args);
  }

  /**
   * Settles later, ahead of this replica's next admission and in the same write, or after
   * SETTLE_DELAY_MS. Until then the reservations (each call's worst case) stay counted: a budget is
   * over-counted for that moment, never under-counted. `onFailure` hears of a settlement that failed.
   */
  settleDeferred(settlements: Settlement[], onFailure: (err: unknown) => void): void {
    if (settlements.length === 0) return;
    this.deferred.push({ settlements, onFailure });
    this.timer ??= setTimeout(() => void this.flush(), SETTLE_DELAY_MS);
  }

  /** Sends the deferred settlements now. */
  async flush(): Promise<void> {
    const pending = this.takeDeferred();
    if (!pending) return;
    await this.settleAll(pending.flatMap((d) => d.settlements)).catch((err: unknown) => failDeferred(pending, err));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  async usage(team: string, day: string): Promise<Record<string, number>> {
    await this.flush();
    const raw = await this.redis.hgetall(usageKey(team, day));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async committed(scope: { scope: string; id: string; period: string }): Promise<number> {
    await this.flush();
    return Number((await this.redis.get(budgetKey(scope))) ?? 0);
  }

  private takeDeferred(): Deferred[] | undefined {
    if (this.deferred.length === 0) return undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.deferred.splice(0);
  }
}

function settleCommand(settlements: Settlement[]): { keys: string[]; args: Array<string | number> } {
  const keys: string[] = [];
  const args: Array<string | number> = [settlements.length];
  for (const s of settlements) {
    const a = s.admission;
    for (const r of a.rate) keys.push(rateKey(r, a.minute));
    for (const b of a.budgets) keys.push(budgetKey(b));
    keys.push(usageKey(s.team, s.day));
    const u = s.usage;
    args.push(a.rate.length, a.budgets.length, s.actualTokens - a.estimatedTokens, s.actualCostNano - a.estimatedCostNano);
    args.push(u.requests, u.inputTokens, u.outputTokens, u.cacheReadTokens, u.cacheWriteTokens, s.actualCostNano, u.cacheHits);
  }
  return { keys, args };
}

function failDeferred(pending: Deferred[], err: unknown): void {
  for (const d of pending) d.onFailure(err);
}

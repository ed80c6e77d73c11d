import { AppError, ErrorCode } from '@overskill/contracts';

// Answers that mean "the dependency is not there right now": worth another try.
const UNAVAILABLE: ReadonlySet<string> = new Set([
  ErrorCode.RPC_NO_RESPONDERS,
  ErrorCode.RPC_TIMEOUT,
  ErrorCode.RPC_CONNECTION_CLOSED,
  ErrorCode.DEPENDENCY_UNAVAILABLE,
  ErrorCode.AI_PROVIDER_UNAVAILABLE,
  ErrorCode.AI_ALL_MODELS_UNAVAILABLE,
  ErrorCode.AI_RATE_LIMITED,
]);

// A tool call that timed out may have run: only a call that surely never arrived is retried.
const NOT_DELIVERED: ReadonlySet<string> = new Set([ErrorCode.RPC_NO_RESPONDERS, ErrorCode.RPC_CONNECTION_CLOSED]);

export type Dependency = 'ai' | 'tools' | 'git';

const FAILURE_CODE: Record<Dependency, ErrorCode> = {
  ai: ErrorCode.RUN_AI_UNAVAILABLE,
  tools: ErrorCode.RUN_TOOLS_UNAVAILABLE,
  git: ErrorCode.RUN_GIT_UNAVAILABLE,
};

const NAME: Record<Dependency, string> = { ai: 'ai-router', tools: 'tool-runner', git: 'git-service' };

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  // Waiting out the team's model rate limit (AI_RATE_LIMITED with a retry time) is not an
  // outage: it does not count as an attempt, up to this much waiting in all.
  rateLimitWaitMs?: number;
  // An infrastructure outage (the bus or a datastore down: DEPENDENCY_UNAVAILABLE) is waited out,
  // polling about once a second without spending attempts, up to this much waiting in all: a
  // restarted server is back within seconds, and a run that goes on loses nothing.
  outageWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const OUTAGE_POLL_MS = 1000;

export function isRetryable(dependency: Dependency, err: unknown): boolean {
  if (!(err instanceof AppError)) return false;
  return dependency === 'tools' ? NOT_DELIVERED.has(err.code) || neverSent(err) : UNAVAILABLE.has(err.code);
}

// The bus was down before the request left: nothing arrived anywhere.
function neverSent(err: AppError): boolean {
  return err.code === ErrorCode.DEPENDENCY_UNAVAILABLE && err.details?.['sent'] === 'no';
}

function isOutage(dependency: Dependency, err: AppError): boolean {
  return err.code === ErrorCode.DEPENDENCY_UNAVAILABLE && (dependency !== 'tools' || neverSent(err));
}

// Exponential backoff with full jitter; after the last attempt the run fails with a code
// naming the dependency. Other errors pass through unchanged.
export async function withDependencyRetry<T>(dependency: Dependency, policy: RetryPolicy, call: () => Promise<T>, shouldStop?: () => void): Promise<T> {
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastCode = '';
  let rateLimitWaitLeft = policy.rateLimitWaitMs ?? 0;
  let outageWaitLeft = policy.outageWaitMs ?? 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isRetryable(dependency, err)) throw err;
      lastCode = (err as AppError).code;
      const retryAfterMs = Number((err as AppError).details?.retryAfterSeconds ?? 0) * 1000;
      if (lastCode === ErrorCode.AI_RATE_LIMITED && retryAfterMs > 0 && retryAfterMs <= rateLimitWaitLeft) {
        rateLimitWaitLeft -= retryAfterMs;
        attempt--;
        await sleep(retryAfterMs + Math.random() * 250);
        shouldStop?.();
        continue;
      }
      if (isOutage(dependency, err as AppError) && outageWaitLeft > 0) {
        const waitMs = Math.min(outageWaitLeft, OUTAGE_POLL_MS / 2 + Math.random() * (OUTAGE_POLL_MS / 2));
        outageWaitLeft -= waitMs;
        attempt--;
        await sleep(waitMs);
        shouldStop?.();
        continue;
      }
      if (attempt >= policy.attempts) break;
      const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
      shouldStop?.();
    }
  }
  throw new AppError(
    FAILURE_CODE[dependency],
    `${NAME[dependency]} was unavailable (${lastCode}) after ${policy.attempts} attempts; the workspace is left at its last commit. Send the message again later.`,
  );
}

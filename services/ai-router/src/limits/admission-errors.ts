import { AppError, ErrorCode } from '@overskill/contracts';
import type { Admission, AdmissionResult } from './usage-ledger.repository';

const DAY_MS = 86_400_000;
// The day last asked for: every model call asks twice (admission, settlement), so the date is
// formatted once a day rather than twice a call.
let known = { from: 0, to: 0, day: '' };

// The UTC day a budget counter belongs to.
export function utcDay(now = Date.now()): string {
  if (now < known.from || now >= known.to) {
    const from = now - (((now % DAY_MS) + DAY_MS) % DAY_MS);
    known = { from, to: from + DAY_MS, day: new Date(from).toISOString().slice(0, 10) };
  }
  return known.day;
}

// A refusal by a per-minute window: the caller may retry when the admission's minute turns.
export function rateLimitedError(admission: Admission, result: Extract<AdmissionResult, { reason: 'rate_limit' }>, now = Date.now()): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(((admission.minute + 1) * 60_000 - now) / 1000));
  return new AppError(ErrorCode.AI_RATE_LIMITED, `The ${result.scope} limit of ${result.dimension} per minute is reached; retry in ${retryAfterSeconds} s`, {
    scope: result.scope,
    retryAfterSeconds: String(retryAfterSeconds),
  });
}

import { AppError, ErrorCode } from '@overskill/contracts';
import type { Admission, AdmissionResult } from './usage-ledger.repository';

// The UTC day a budget counter belongs to.
export function utcDay(): string {
  return new Date().toISOString().slice(0, 10);
}

// A refusal by a per-minute window: the caller may retry when the admission's minute turns.
export function rateLimitedError(admission: Admission, result: Extract<AdmissionResult, { reason: 'rate_limit' }>, now = Date.now()): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(((admission.minute + 1) * 60_000 - now) / 1000));
  return new AppError(ErrorCode.AI_RATE_LIMITED, `The ${result.scope} limit of ${result.dimension} per minute is reached; retry in ${retryAfterSeconds} s`, {
    scope: result.scope,
    retryAfterSeconds: String(retryAfterSeconds),
  });
}

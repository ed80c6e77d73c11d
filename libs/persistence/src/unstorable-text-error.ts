import { AppError, ErrorCode } from '@overskill/contracts';
import { pgErrorState, PgState } from './constraint-violation';

const UNSTORABLE_TEXT_STATES: ReadonlySet<string> = new Set([PgState.CHARACTER_NOT_IN_REPERTOIRE, PgState.UNTRANSLATABLE_CHARACTER]);

// PostgreSQL cannot hold every string JavaScript can: a NUL byte (U+0000) in a text value is
// refused with 22021 before the statement runs, whatever column or query it was bound to. That is
// the caller's input, not a fault of the service, so every transport answers it as a validation
// error rather than INTERNAL; handlers keep their own checks for the formats they define.
export function asUnstorableTextError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return undefined;
  const state = pgErrorState(err);
  if (!state || !UNSTORABLE_TEXT_STATES.has(state)) return undefined;
  return new AppError(ErrorCode.VALIDATION_FAILED, 'A text value contains a character that cannot be stored (such as a NUL byte); remove it and retry');
}

import type { AppError } from '@overskill/contracts';
import { asDependencyError } from './dependency-error';
import { asUnstorableTextError } from './unstorable-text-error';

// What every transport's error mapper makes of a datastore driver's error: unavailable is
// DEPENDENCY_UNAVAILABLE, text it cannot store is VALIDATION_FAILED; anything else is not the
// datastore's to say (undefined).
export function asDatastoreError(err: unknown): AppError | undefined {
  return asDependencyError(err) ?? asUnstorableTextError(err);
}

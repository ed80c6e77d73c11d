import { DatabaseError } from 'pg-protocol';
import { QueryFailedError } from 'typeorm';
import { PgState, violatesConstraint } from './constraint-violation';

function pgError(code: string, constraint?: string): DatabaseError {
  const err = new DatabaseError('refused', 7, 'error');
  err.code = code;
  err.constraint = constraint;
  return err;
}

describe('violatesConstraint', () => {
  it('reads the state from node-postgres’ error and from TypeORM’s around it', () => {
    const duplicate = pgError(PgState.UNIQUE_VIOLATION, 'messages_idempotency_key');
    expect(violatesConstraint(duplicate, PgState.UNIQUE_VIOLATION)).toBe(true);
    expect(violatesConstraint(new QueryFailedError('INSERT …', [], duplicate), PgState.UNIQUE_VIOLATION)).toBe(true);
    expect(violatesConstraint(duplicate, PgState.FOREIGN_KEY_VIOLATION)).toBe(false);
  });

  it('with constraints given, only on one of them', () => {
    const gone = new QueryFailedError('INSERT …', [], pgError(PgState.FOREIGN_KEY_VIOLATION, 'runs_app_id_fkey'));
    expect(violatesConstraint(gone, PgState.FOREIGN_KEY_VIOLATION, ['messages_app_id_fkey', 'runs_app_id_fkey'])).toBe(true);
    expect(violatesConstraint(gone, PgState.FOREIGN_KEY_VIOLATION, ['messages_app_id_fkey'])).toBe(false);
  });

  it('is false for anything else', () => {
    for (const err of [undefined, null, 'text', new Error('boom'), pgError('57P01'), { driverError: null, code: '40001' }])
      expect(violatesConstraint(err, PgState.UNIQUE_VIOLATION)).toBe(false);
  });
});

// SQLSTATEs that say something about the data rather than a failed statement: the row would
// break a constraint (a duplicate, a parent already gone), or a text value holds a character the
// database cannot store.
export const PgState = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHARACTER_NOT_IN_REPERTOIRE: '22021',
  UNTRANSLATABLE_CHARACTER: '22P05',
} as const;

interface PgErrorFields {
  code?: string;
  constraint?: string;
}

// The SQLSTATE PostgreSQL refused a statement with: read from node-postgres' error, or from
// TypeORM's QueryFailedError around it.
function pgErrorFields(err: unknown): PgErrorFields | undefined {
  if (!err || typeof err !== 'object') return undefined;
  return ((err as { driverError?: PgErrorFields }).driverError ?? err) as PgErrorFields;
}

export function pgErrorState(err: unknown): string | undefined {
  const code = pgErrorFields(err)?.code;
  return typeof code === 'string' ? code : undefined;
}

// PostgreSQL refused the statement with `state`, on one of `constraints` when they are given.
export function violatesConstraint(err: unknown, state: string, constraints?: readonly string[]): boolean {
  const fields = pgErrorFields(err);
  return fields?.code === state && (!constraints || constraints.includes(fields.constraint ?? ''));
}

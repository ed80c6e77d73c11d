// SQLSTATEs a repository answers itself: the row it wrote would break a constraint, which says
// something about the data (a duplicate, a parent already gone), not that the statement failed.
export const PgState = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
} as const;

interface PgErrorFields {
  code?: string;
  constraint?: string;
}

// PostgreSQL refused the statement with `state`, on one of `constraints` when they are given:
// read from node-postgres' error, or from TypeORM's QueryFailedError around it.
export function violatesConstraint(err: unknown, state: string, constraints?: readonly string[]): boolean {
  if (!err || typeof err !== 'object') return false;
  const fields = ((err as { driverError?: PgErrorFields }).driverError ?? err) as PgErrorFields;
  return fields.code === state && (!constraints || constraints.includes(fields.constraint ?? ''));
}

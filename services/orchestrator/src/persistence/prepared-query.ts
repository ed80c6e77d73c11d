import type { DataSource } from 'typeorm';

// The little of pg used here (pg ships no types of its own).
export interface PgTypes {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}
interface PgPool {
  query<T>(config: { name: string; text: string; values: unknown[]; types?: PgTypes }): Promise<{ rows: T[] }>;
}

export interface PreparedStatement {
  name: string;
  text: string;
}

// A hot statement as a named prepared statement on the driver's pool: parsed and planned once per
// connection, TypeORM's query runner skipped. Through the same pool, deadlines, tracing (the pg
// instrumentation) and SQL log as every TypeORM query. `types` replaces pg's value parsers for
// this statement only; the fallback through TypeORM parses as usual.
export async function preparedQuery<T>(dataSource: DataSource, statement: PreparedStatement, values: unknown[], types?: PgTypes): Promise<T[]> {
  const pool = dataSource.isInitialized ? (dataSource.driver as { master?: PgPool }).master : undefined;
  // Not connected (yet): TypeORM's own error, which the error mapper answers as Postgres unavailable.
  if (!pool) return dataSource.query(statement.text, values);
  dataSource.logger.logQuery(statement.text, values);
  try {
    return (await pool.query<T>(types ? { ...statement, values, types } : { ...statement, values })).rows;
  } catch (err) {
    dataSource.logger.logQueryError(err as Error, statement.text, values);
    throw err;
  }
}

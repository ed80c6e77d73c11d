import type { DataSource } from 'typeorm';

// The little of pg's pool used here (pg ships no types of its own).
interface PgPool {
  query<T>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }>;
}

export interface PreparedStatement {
  name: string;
  text: string;
}

// A hot statement as a named prepared statement on the driver's pool: parsed and planned once per
// connection, TypeORM's query runner skipped. Through the same pool, deadlines, tracing (the pg
// instrumentation) and SQL log as every TypeORM query.
export async function preparedQuery<T>(dataSource: DataSource, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  const pool = dataSource.isInitialized ? (dataSource.driver as { master?: PgPool }).master : undefined;
  // Not connected (yet): TypeORM's own error, which the error mapper answers as Postgres unavailable.
  if (!pool) return dataSource.query(statement.text, values);
  dataSource.logger.logQuery(statement.text, values);
  try {
    return (await pool.query<T>({ ...statement, values })).rows;
  } catch (err) {
    dataSource.logger.logQueryError(err as Error, statement.text, values);
    throw err;
  }
}

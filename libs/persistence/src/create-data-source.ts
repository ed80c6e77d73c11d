import type pg from 'pg';
import type * as TypeOrm from 'typeorm';
import type { DataSource, EntitySchema, MixedList } from 'typeorm';
import { SqlQueryLogger } from './sql-query-logger';

export interface ServiceDataSourceOptions {
  url: string;
  // The service's own Postgres schema; no service reads another's.
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
}

export interface DatabaseDeadlines {
  // PostgreSQL cancels a statement after this (statement_timeout); a server that does not answer
  // at all (frozen, a VM pause) is given up on by the client a second later. 0 = none.
  queryTimeoutMs: number;
  // Waiting for a pooled connection, or for a new one to connect.
  acquireTimeoutMs: number;
}

export const DEFAULT_DATABASE_DEADLINES: DatabaseDeadlines = { queryTimeoutMs: 5000, acquireTimeoutMs: 2000 };

// DATABASE_QUERY_TIMEOUT_MS and DATABASE_ACQUIRE_TIMEOUT_MS, the same for every service.
export function databaseDeadlinesFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseDeadlines {
  const read = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > 3_600_000)
      throw new Error(`${name} must be an integer of milliseconds, ${min} to 3600000 (got "${raw.slice(0, 20)}")`);
    return value;
  };
  return {
    queryTimeoutMs: read('DATABASE_QUERY_TIMEOUT_MS', DEFAULT_DATABASE_DEADLINES.queryTimeoutMs, 0),
    acquireTimeoutMs: read('DATABASE_ACQUIRE_TIMEOUT_MS', DEFAULT_DATABASE_DEADLINES.acquireTimeoutMs, 100),
  };
}

// A pg client that drops its connection when a query outlives the client's deadline: the server
// did not answer, and the stuck query would otherwise hold the connection (and every query queued
// behind it on a pooled client) until the server wakes. The pool then discards it.
function DeadlineClient(config: pg.ClientConfig): pg.Client {
  const client = new (require('pg') as typeof pg).Client(config);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if ((err as Error)?.message === 'Query read timeout') client.connection.stream.destroy();
      });
    }
    return result;
  };
  return client;
}

export function createServiceDataSource(opts: ServiceDataSourceOptions, deadlines: DatabaseDeadlines = databaseDeadlinesFromEnv()): DataSource {
  const { queryTimeoutMs, acquireTimeoutMs } = deadlines;
  // Required here, not at the top: this library is loaded by every service, TypeORM used by four.
  const { DataSource } = require('typeorm') as typeof TypeOrm;
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    // Schema changes only through reviewed migrations.
    synchronize: false,
    migrationsRun: false,
    // Statements reach the logger always; it writes them only while switched on at run time.
    logger: new SqlQueryLogger(opts.schema),
    extra: {
      max: opts.poolSize ?? 10,
      // Fail fast while Postgres is down so readiness answers instead of hanging.
      connectionTimeoutMillis: acquireTimeoutMs,
      application_name: opts.schema,
      ...(queryTimeoutMs > 0 ? { statement_timeout: queryTimeoutMs, query_timeout: queryTimeoutMs + 1000, Client: DeadlineClient } : {}),
    },
  });
}

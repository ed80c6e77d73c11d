import type { DataSource, Driver, EntityMetadata, EntityTarget } from 'typeorm';

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
// instrumentation, where spans are exported) and SQL log as every TypeORM query. `types` replaces pg's value parsers for
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

// An entity read the same way: `tail` follows `SELECT <every mapped column> FROM <its table>`
// (the table's alias is its name, e.g. "runs"), which is built once from TypeORM's metadata.
export interface EntityStatement {
  name: string;
  tail: string;
}

const entityTexts = new WeakMap<EntityMetadata, Map<string, PreparedStatement>>();

// Rows hydrated as TypeORM hydrates them (each column through the driver's own conversion), without
// its query builder: for the reads every run makes.
export async function preparedEntities<E extends object>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  statement: EntityStatement,
  values: unknown[],
): Promise<E[]> {
  // Not connected (yet): TypeORM's own error, as for every other query.
  if (!dataSource.isInitialized) await dataSource.query('SELECT 1');
  const rows = await preparedQuery<Record<string, unknown>>(dataSource, entityStatement(dataSource.driver, dataSource.getMetadata(entity), statement), values);
  return hydratedEntities(dataSource, entity, rows);
}

// The one row a read by key finds, or null.
export async function preparedEntity<E extends object>(
  dataSource: DataSource,
  entity: EntityTarget<E>,
  statement: EntityStatement,
  values: unknown[],
): Promise<E | null> {
  return (await preparedEntities(dataSource, entity, statement, values))[0] ?? null;
}

// Rows whose columns carry the table's column names (and perhaps more), as entities.
export function hydratedEntities<E extends object>(dataSource: DataSource, entity: EntityTarget<E>, rows: Array<Record<string, unknown>>): E[] {
  const { driver } = dataSource;
  const metadata = dataSource.getMetadata(entity);
  return rows.map((row) => {
    const hydrated = metadata.create(undefined, { fromDeserializer: true }) as E;
    for (const column of metadata.columns) {
      const value = row[column.databaseName];
      if (value !== undefined) column.setEntityValue(hydrated, driver.prepareHydratedValue(value, column));
    }
    return hydrated;
  });
}

// Rows that came as JSON (to_jsonb of a table's row: its column names, the values as JSON), as
// entities. JSON carries a timestamp as ISO text, turned (in the row itself) into the Date pg's own
// parser makes, to the millisecond. A bigint or numeric would arrive as a JSON number, not the
// exact text pg gives, so entities with such columns are not read this way.
export function jsonEntities<E extends object>(dataSource: DataSource, entity: EntityTarget<E>, rows: Array<Record<string, unknown>>): E[] {
  const metadata = dataSource.getMetadata(entity);
  let timestamps = jsonTimestampColumns.get(metadata);
  if (!timestamps) {
    const inexact = metadata.columns.find((column) => INEXACT_IN_JSON.has(String(column.type)));
    if (inexact) throw new Error(`${metadata.name}.${inexact.propertyName} (${String(inexact.type)}) cannot be read from JSON exactly`);
    timestamps = metadata.columns.filter((column) => TIMESTAMP_TYPES.has(String(column.type))).map((column) => column.databaseName);
    jsonTimestampColumns.set(metadata, timestamps);
  }
  for (const row of rows) {
    for (const name of timestamps) {
      const value = row[name];
      if (typeof value === 'string') row[name] = new Date(value);
    }
  }
  return hydratedEntities(dataSource, entity, rows);
}

// The one row a JSON value holds, or null.
export function jsonEntity<E extends object>(dataSource: DataSource, entity: EntityTarget<E>, row: Record<string, unknown> | null): E | null {
  return row ? (jsonEntities(dataSource, entity, [row])[0] ?? null) : null;
}

const TIMESTAMP_TYPES = new Set(['timestamptz', 'timestamp', 'timestamp with time zone', 'timestamp without time zone']);
const INEXACT_IN_JSON = new Set(['bigint', 'int8', 'numeric', 'decimal']);
const jsonTimestampColumns = new WeakMap<EntityMetadata, string[]>();

function entityStatement(driver: Driver, metadata: EntityMetadata, statement: EntityStatement): PreparedStatement {
  let texts = entityTexts.get(metadata);
  if (!texts) entityTexts.set(metadata, (texts = new Map()));
  let prepared = texts.get(statement.name);
  if (!prepared) {
    const alias = driver.escape(metadata.tableName);
    const table = metadata.schema ? `${driver.escape(metadata.schema)}.${alias}` : alias;
    const columns = metadata.columns.map((column) => `${alias}.${driver.escape(column.databaseName)}`).join(', ');
    prepared = { name: statement.name, text: `SELECT ${columns} FROM ${table} ${alias} ${statement.tail}` };
    texts.set(statement.name, prepared);
  }
  return prepared;
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface TableState {
  schema: string;
  table: string;
  bytes: number;
  deadRows: number;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

// VACUUM and ANALYZE of the service schemas, and the sizes and dead rows around them.
@Injectable()
export class DatabaseMaintenanceRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Every schema the services own (not PostgreSQL's own, not public).
  async schemas(): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema') ORDER BY nspname`,
    )) as { nspname: string }[];
    return rows.map((r) => r.nspname);
  }

  async tables(schemas: string[]): Promise<TableState[]> {
    const rows = (await this.dataSource.query(
      `SELECT schemaname, relname, pg_total_relation_size(relid) AS bytes, n_dead_tup AS dead
       FROM pg_stat_user_tables WHERE schemaname = ANY($1) ORDER BY schemaname, relname`,
      [schemas],
    )) as { schemaname: string; relname: string; bytes: string; dead: string }[];
    return rows.map((r) => ({ schema: r.schemaname, table: r.relname, bytes: Number(r.bytes), deadRows: Number(r.dead) }));
  }

  async table(schema: string, table: string): Promise<TableState> {
    const rows = (await this.dataSource.query(
      `SELECT pg_total_relation_size(relid) AS bytes, n_dead_tup AS dead FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
      [schema, table],
    )) as { bytes: string; dead: string }[];
    return { schema, table, bytes: Number(rows[0]?.bytes ?? 0), deadRows: Number(rows[0]?.dead ?? 0) };
  }

  // Outside any transaction (VACUUM refuses to run inside one); names come from the catalog, quoted.
  async run(operation: 'vacuum' | 'analyze', schema: string, table: string): Promise<void> {
    const target = `${quote(schema)}.${quote(table)}`;
    await this.dataSource.query(operation === 'vacuum' ? `VACUUM (ANALYZE) ${target}` : `ANALYZE ${target}`);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { ROW_DIGEST, type DatabaseInfo, type RowDigest, type TableStat } from '../archive/backup-manifest';
import { runPipeline, runTool } from '../tools/run-tool';

// `pg` ships no type declarations; the little used here is typed by hand.
interface Client {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
const pg = require('pg') as { Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => Client };

// The catalog describes the archives; it is not platform data a restore should roll back.
const NOT_DUMPED = ['backup', 'public', 'information_schema'];
const CONNECT_TIMEOUT_SECONDS = 10;

export function databaseUrlFor(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface DumpedDatabase {
  info: DatabaseInfo;
  // Of the dump file, computed while it was written.
  sha256: string;
  sizeBytes: number;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// PostgreSQL through its own tools: pg_dump (custom format) inside an exported snapshot, so the
// dump and the row digests recorded beside it are the same moment; pg_restore; psql.
@Injectable()
export class DatabaseDumpRepository {
  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  private async withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_SECONDS * 1000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`SET TimeZone = 'UTC'`);
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  // Dumps every service schema to `file` as of one snapshot; returns what the manifest records.
  // `url` is another server's (a point-in-time replay) when not the live database.
  async dump(file: string, url = this.env.DATABASE_URL): Promise<DumpedDatabase> {
    return this.withClient(url, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const snap = await c.query(
          `SELECT pg_export_snapshot() AS snapshot, now() AS at, (SELECT system_identifier::text FROM pg_control_system()) AS sysid,
             CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text ELSE pg_current_wal_lsn()::text END AS lsn,
             current_setting('server_version') AS version`,
        );
        const row = snap.rows[0] as unknown as { snapshot: string; at: Date; sysid: string; lsn: string; version: string };
        const schemas = await this.schemas(c);
        if (schemas.length === 0) throw new Error('the database has no service schema yet: run the migrations first');
        // zlib level 1 inside the dump: at 1 GB, writing, hashing and re-reading an uncompressed
        // dump cost more than pg_dump's fastest compression (docs/benchmarks.md#backup).
        const args = [
          '--format=custom',
          '--compress=1',
          '--no-owner',
          '--no-privileges',
          `--snapshot=${row.snapshot}`,
          ...schemas.flatMap((s) => ['--schema', s]),
          '--dbname',
          url,
        ];
        // The dump and the digests read the same snapshot at the same time, on their own connections;
        // the dump is hashed as it is written, so the manifest's checksum costs no second read.
        const dumped = runTool('pg_dump', args, { env: { PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_SECONDS) }, outputFile: file });
        let tables: TableStat[];
        let migrations: Record<string, string[]>;
        try {
          tables = await this.tableStats(c, schemas, ROW_DIGEST);
          migrations = await this.migrations(c, schemas);
        } finally {
          await dumped.catch(() => undefined);
        }
        const { sha256, bytes } = await dumped;
        const info = {
          systemIdentifier: row.sysid,
          walLsn: row.lsn,
          snapshotAt: row.at.toISOString(),
          serverVersion: row.version,
          schemas,
          migrations,
          tables,
          digest: ROW_DIGEST,
        };
        return { info, sha256: sha256 ?? '', sizeBytes: bytes ?? 0 };
      } finally {
        await c.query('COMMIT').catch(() => undefined);
      }
    });
  }

  private async schemas(c: Client): Promise<string[]> {
    const res = await c.query(`SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> ALL($1) ORDER BY nspname`, [NOT_DUMPED]);
    return res.rows.map((r) => String(r.nspname));
  }

  private async migrations(c: Client, schemas: string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const schema of schemas) {
      const exists = await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${quoteIdent(schema)}.migrations`]);
      if (!exists.rows[0]?.ok) continue;
      const res = await c.query(`SELECT name FROM ${quoteIdent(schema)}.migrations ORDER BY timestamp`);
      out[schema] = res.rows.map((r) => String(r.name));
    }
    return out;
  }

  // Row count and an order-independent digest (a sum of per-row hashes, see RowDigest) per table: no sort,
  // so it stays cheap on large tables, and equal for a faithful restore whatever the row order.
  private async tableStats(c: Client, schemas: string[], digest: RowDigest): Promise<TableStat[]> {
    if (schemas.length === 0) return [];
    const res = await c.query(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema = ANY($1) ORDER BY 1, 2`,
      [schemas],
    );
    const stats: TableStat[] = [];
    for (const r of res.rows as unknown as { table_schema: string; table_name: string }[]) {
      const name = `${quoteIdent(r.table_schema)}.${quoteIdent(r.table_name)}`;
      const sum = digest === 'md5' ? `sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint)` : 'sum(hashtextextended(t::text, 0))';
      const q = await c.query(`SELECT count(*)::text AS n, coalesce(${sum}, 0)::text AS h FROM ${name} t`);
      const row = q.rows[0] as unknown as { n: string; h: string };
      stats.push({ table: `${r.table_schema}.${r.table_name}`, rows: Number(row.n), contentHash: row.h });
    }
    return stats;
  }

  async statsOf(database: string, schemas: string[], digest: RowDigest = 'md5'): Promise<TableStat[]> {
    return this.withClient(databaseUrlFor(this.env.DATABASE_URL, database), (c) => this.tableStats(c, schemas, digest));
  }

  async liveMigrations(schemas: string[]): Promise<Record<string, string[]>> {
    return this.withClient(this.env.DATABASE_URL, (c) => this.migrations(c, schemas));
  }

  async ping(): Promise<void> {
    await this.withClient(this.env.DATABASE_URL, async (c) => void (await c.query('SELECT 1')));
  }

  // `pg_restore --list` reads the whole table of contents: a damaged dump fails here.
  async listDump(file: string): Promise<number> {
    const { stdout } = await runTool('pg_restore', ['--list', file]);
    return stdout.split('\n').filter((l) => l && !l.startsWith(';')).length;
  }

  liveDatabaseName(): string {
    return decodeURIComponent(new URL(this.env.DATABASE_URL).pathname.slice(1));
  }

  async createScratch(name: string): Promise<void> {
    await this.withClient(this.env.DATABASE_URL, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
    });
  }

  async dropScratch(name: string): Promise<void> {
    await this.withClient(this.env.DATABASE_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).then(() => undefined));
  }

  async restoreInto(file: string, database: string): Promise<void> {
    const url = databaseUrlFor(this.env.DATABASE_URL, database);
    await runTool('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--dbname', url, file], {
      env: { PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_SECONDS) },
    });
  }

  // Over live data, in one transaction: the archive's schemas are dropped and re-created from
  // the dump, or (any error, a kill) nothing changes. Schemas the archive lacks are left alone.
  async restoreOverLive(file: string, schemas: string[]): Promise<void> {
    const drops = schemas.map((s) => `DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE;`).join('\n');
    await runPipeline(
      'pg_restore | psql',
      `{ printf '%s\\n' "$1"; pg_restore --no-owner --no-privileges -f - "$2"; } | psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$3" >/dev/null`,
      [drops, file, this.env.DATABASE_URL],
      { env: { PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_SECONDS) } },
    );
  }
}

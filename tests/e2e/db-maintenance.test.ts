import { waitUntil } from '@overskill/testing';
import { startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { runCli } from '../support/cli';
import { integrationStack } from '../support/integration-env';

interface TableReport {
  schema: string;
  table: string;
  bytesBefore: number;
  bytesAfter: number;
  deadRowsBefore: number;
  deadRowsAfter: number;
}

// `overskill db maintenance vacuum|analyze` on a real PostgreSQL with every service's schema.
describe('db maintenance', () => {
  const stack = integrationStack();
  let fx: BackupFixture;

  beforeAll(async () => {
    fx = await startBackupFixture(stack, 'db-maintenance');
  }, 120_000);

  afterAll(async () => {
    await fx?.stop();
  });

  it('vacuums every table of every service schema, removing dead rows, with sizes before and after', async () => {
    // Dead rows: 3000 rows written and deleted in one of the schemas. Autovacuum is off for that table
    // while the test needs them, or a worker waking between the delete and the report takes them first.
    fx.psql('ALTER TABLE analytics.events SET (autovacuum_enabled = false)');
    fx.psql(
      `INSERT INTO analytics.events (event_id, type, occurred_at, attributes) SELECT gen_random_uuid(), 'bloat', now(), '{"pad":"${'x'.repeat(200)}"}' FROM generate_series(1, 3000)`,
    );
    fx.psql(`DELETE FROM analytics.events WHERE type = 'bloat'`);
    // A backend flushes its statistics as it exits, after psql has already returned.
    const dead = () => Number(fx.psql(`SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = 'analytics' AND relname = 'events'`));
    await waitUntil('the dead rows in the statistics', async () => dead() >= 3000, { timeoutMs: 10_000 });
    const r = runCli(['db', 'maintenance', 'vacuum', '--json'], stack);
    fx.psql('ALTER TABLE analytics.events RESET (autovacuum_enabled)');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { operation: string; schemas: string[]; bytesBefore: number; bytesAfter: number; tables: TableReport[] };
    expect(report.operation).toBe('vacuum');
    expect(report.schemas).toEqual(expect.arrayContaining(['analytics', 'backup', 'gateway', 'orchestrator']));
    const schemas = new Set(report.tables.map((t) => t.schema));
    expect([...schemas].sort()).toEqual(report.schemas.filter((s) => schemas.has(s)).sort());
    expect(report.tables.length).toBeGreaterThan(10);
    const events = report.tables.find((t) => t.schema === 'analytics' && t.table === 'events');
    expect(events).toMatchObject({ deadRowsAfter: 0 });
    expect(events!.deadRowsBefore).toBeGreaterThanOrEqual(3000);
    expect(events!.bytesBefore).toBeGreaterThan(0);
    expect(report.bytesBefore).toBe(report.tables.reduce((n, t) => n + t.bytesBefore, 0));
    // Progress: tables done of the total, on stderr.
    const last = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .pop();
    expect(last).toMatchObject({ progress: 'db maintenance vacuum', unit: 'tables', done: report.tables.length, total: report.tables.length });
    expect(fx.psql(`SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = 'gateway' AND relname = 'api_keys'`)).toBe('t');
  }, 60_000);

  it('analyzes every table, and refuses what it does not know', () => {
    const r = runCli(['db', 'maintenance', 'analyze'], stack);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^db maintenance analyze: \d+ tables in analytics, backup, gateway, orchestrator/);
    expect(fx.psql(`SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = 'orchestrator' AND relname = 'apps'`)).toBe('t');
    expect(runCli(['db', 'maintenance', 'reindex'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('vacuum or analyze') });
    expect(runCli(['db', 'maintenance'], stack)).toMatchObject({ status: 2 });
    expect(runCli(['db', 'maintenance', 'vacuum', '--full'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining("Unknown option '--full'") });
  }, 60_000);

  it('says so when the backup service is down', async () => {
    await fx.platform.stopService('backup');
    const r = runCli(['db', 'maintenance', 'vacuum'], stack);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
  }, 30_000);
});

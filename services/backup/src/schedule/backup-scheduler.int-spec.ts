import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { BackupCatalogRepository } from '../catalog/backup-catalog.repository';
import type { BackupEnv } from '../config';
import { createBackupDataSource } from '../persistence/data-source';
import { BackupSchedulerService } from './backup-scheduler.service';

// Two scheduler replicas on one real PostgreSQL, ticking at the same simulated instants: each
// due slot is claimed by one of them only. The jobs record that they ran instead of backing up.
describe('BackupSchedulerService with two replicas', () => {
  const url = process.env.OVERSKILL_TEST_DATABASE_URL;
  if (!url) throw new Error('integration stack not running');
  const database = `bk_sched_${randomBytes(4).toString('hex')}`;
  const dbUrl = Object.assign(new URL(url), { pathname: `/${database}` }).toString();
  const admin = Object.assign(new URL(url), { pathname: '/postgres' }).toString();
  const psql = (target: string, sql: string) =>
    execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', target, '-c', sql], { encoding: 'utf8' }).trim();
  let sources: DataSource[] = [];

  beforeAll(async () => {
    psql(admin, `CREATE DATABASE ${database}`);
    psql(dbUrl, 'CREATE SCHEMA backup');
    sources = [createBackupDataSource(dbUrl), createBackupDataSource(dbUrl)];
    await Promise.all(sources.map((s) => s.initialize()));
    await sources[0].runMigrations();
  });

  afterAll(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
    psql(admin, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('runs each due job exactly once across replicas, however often they tick', async () => {
    const runs: string[] = [];
    const env = {
      BACKUP_SCHEDULE_FULL: '0 2 * * *',
      BACKUP_SCHEDULE_DATABASE: '0 */6 * * *',
      BACKUP_SCHEDULE_DRILL: '0 4 * * 0',
      BACKUP_SCHEDULE_BASE: 'off',
      SECURITY_AUDIT_SCHEDULE: '0 * * * *',
      BACKUP_AGE_RECIPIENTS: [],
    } as unknown as BackupEnv;
    const replicas = sources.map((s, i) => {
      const record = (job: string) => async () => void runs.push(`${job}@${i}`);
      const scheduler = new BackupSchedulerService(
        env,
        new BackupCatalogRepository(s),
        { create: ({ type }: { type: string }) => record(type)() } as never,
        { drill: record('drill') } as never,
        { prune: async () => ({ dryRun: false, expired: [] }) } as never,
        { audit: record('security-audit') } as never,
      );
      scheduler.replica = `replica-${i}`;
      return scheduler;
    });
    // Through one simulated Sunday, both replicas tick at the same instants, twice per slot.
    const start = new Date('2031-03-02T00:00:10Z').getTime();
    for (let t = start; t < start + 86_400_000; t += 20 * 60_000) {
      await Promise.all(replicas.map((r) => r.tick(new Date(t))));
      await Promise.all(replicas.map((r) => r.tick(new Date(t + 20_000))));
    }
    const jobs = runs.map((r) => r.split('@')[0]);
    expect(jobs.filter((j) => j !== 'security-audit').sort()).toEqual(['database', 'database', 'database', 'database', 'drill', 'full']);
    // The hourly security audit: 24 slots in the day, each audited by one replica only.
    expect(jobs.filter((j) => j === 'security-audit')).toHaveLength(24);
    // One claim row per slot, naming the replica that ran it.
    const claims = await sources[0].query(`SELECT job, replica FROM backup.schedule_runs ORDER BY due_at`);
    expect(claims).toHaveLength(30);
    expect(claims.map((c: { replica: string }) => c.replica).every((r: string) => /^replica-[01]$/.test(r))).toBe(true);
  });
});

import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, startStack, stackNatsCredentials } from '@overskill/testing';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { rpcError, startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const LONG = { timeoutMs: 120_000 };
const ARCHIVE = /^overskill-\d{8}T\d{6}Z-[a-z]+-[0-9a-f]{8}\.tar\.zst(\.age)?$/;

async function until<T>(fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Faults: a full disk, kill -9 mid-backup and mid-restore, the database down, a truncated
// archive. Each ends with a clear error, a catalog that tells the truth, no archive with a final
// name that is not whole, and nothing live changed.
describe('backup: faults', () => {
  const stack = integrationStack();
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    nc = await connectNats(stack.natsUrl, 'backup-faults-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('backup-faults-test'), 30_000);
  });

  afterAll(async () => {
    await nc?.close();
  });

  describe('on one platform', () => {
    let fx: BackupFixture;
    beforeAll(async () => {
      fx = await startBackupFixture(stack, 'backup-faults', { env: { BACKUP_HEARTBEAT_MS: '200' } });
      // Enough data that a backup and a restore take a moment.
      fx.psql(`CREATE TABLE analytics.bulk AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS payload FROM generate_series(1, 400000) g`);
      fx.psql(`INSERT INTO gateway.teams (id, slug) SELECT gen_random_uuid(), 'team-' || g FROM generate_series(1, 10) g`);
      const app = randomUUID();
      fx.makeRepo(app);
      writeFileSync(join(fx.workspaces, app, 'big.bin'), randomBytes(20_000_000));
      fx.git(join(fx.workspaces, app), 'add', '.');
      fx.git(join(fx.workspaces, app), 'commit', '-q', '-m', 'big');
    }, 180_000);

    afterAll(async () => {
      await fx?.stop();
    });

    it('kill -9 mid-backup: no archive with a final name, the row becomes failed (interrupted), leftovers removed at restart', async () => {
      // The request never gets an answer: its process is killed.
      void rpc.send(Rpc.backupArchiveCreate, { type: 'full', encrypt: true, trigger: '' }, { timeoutMs: 20_000 }).catch(() => undefined);
      await until(() => readdirSync(fx.backupDir).some((n) => n.startsWith('.staging-')));
      // The running row reports its progress (what the CLI shows) with each heartbeat.
      await until(() => Number(fx.psql(`SELECT progress_bytes FROM backup.backups WHERE status = 'running'`) || 0) > 0);
      await fx.platform.stopService('backup', 'SIGKILL');
      expect(readdirSync(fx.backupDir).filter((n) => ARCHIVE.test(n))).toEqual([]);
      expect(fx.psql(`SELECT status FROM backup.backups`)).toBe('running');
      // The killed process's tools may still finish writing; they never rename anything.
      await new Promise((r) => setTimeout(r, 2000));
      await fx.platform.start('backup');
      const rows = await rpc.send(Rpc.backupCatalogList, { limit: 10 });
      expect(rows.backups).toHaveLength(1);
      expect(rows.backups[0]).toMatchObject({ status: 'failed', fileName: '', sizeBytes: 0n });
      expect(rows.backups[0].error).toMatch(/interrupted/);
      await until(() => readdirSync(fx.backupDir).every((n) => !n.startsWith('.staging-') && !n.endsWith('.partial')));
      expect(readdirSync(fx.backupDir).filter((n) => ARCHIVE.test(n))).toEqual([]);
    });

    it('kill -9 mid-restore over live data: the database is wholly old or wholly restored, never a mix', async () => {
      const made = await rpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: false, trigger: '' }, LONG);
      fx.psql(`DELETE FROM analytics.bulk WHERE id > 200000`);
      fx.psql(`INSERT INTO gateway.teams (id, slug) VALUES (gen_random_uuid(), 'after-backup')`);
      void rpc
        .send(Rpc.backupArchiveRestore, { id: made.backup!.id, file: '', target: 'live', force: true, appId: '' }, { timeoutMs: 20_000 })
        .catch(() => undefined);
      // Past the safety backup, into the restore itself.
      await until(() => fx.psql(`SELECT count(*) FROM backup.backups WHERE trigger = 'safety' AND status = 'completed'`) === '1', 60_000);
      await new Promise((r) => setTimeout(r, 100));
      await fx.platform.stopService('backup', 'SIGKILL');
      // Whatever the orphaned restore tools were doing ends in one commit or none.
      await until(
        () =>
          fx.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'psql' AND pid <> pg_backend_pid()`) === '0',
      );
      const bulk = fx.psql('SELECT count(*) FROM analytics.bulk');
      const after = fx.psql(`SELECT count(*) FROM gateway.teams WHERE slug = 'after-backup'`);
      expect([`${bulk}/${after}`]).toEqual([expect.stringMatching(/^(200000\/1|400000\/0)$/)]);
      await fx.platform.start('backup');
    });

    it('a truncated archive is refused with the stage that failed named, before anything live is touched', async () => {
      const made = await rpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: true, trigger: '' }, LONG);
      const file = join(fx.backupDir, made.backup!.fileName);
      execFileSync('truncate', ['-s', String(Math.floor(statSync(file).size / 2)), file]);
      const v = await rpc.send(Rpc.backupArchiveVerify, { id: made.backup!.id, file: '' }, LONG);
      expect(v.ok).toBe(false);
      expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['archive sha256', 'decrypt (age), decompress (zstd), extract (tar)']);
      const row = (await rpc.send(Rpc.backupArchiveGet, { id: made.backup!.id })).backup!;
      expect(row.verifyError).toMatch(/archive sha256/);
      const before = fx.psql('SELECT count(*) FROM gateway.teams');
      const err = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: made.backup!.id, file: '', target: 'live', force: true, appId: '' }, LONG));
      expect(err.code).toBe(ErrorCode.BACKUP_ARCHIVE_INVALID);
      expect(fx.psql('SELECT count(*) FROM gateway.teams')).toBe(before);
    });
  });

  it('a full disk mid-backup: a clear error, the row failed, no partial archive or staging left', async () => {
    const mount = join(scratchDir(stack.dataDir, 'backup-full-disk'), 'backups');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mount]);
    let fx: BackupFixture | undefined;
    try {
      fx = await startBackupFixture(stack, 'backup-disk', { backupDir: mount });
      fx.psql(`CREATE TABLE analytics.bulk AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 200000) g`);
      const err = await rpcError(rpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: false, trigger: '' }, LONG));
      expect(err.code).toBe(ErrorCode.BACKUP_FAILED);
      expect(err.message).toMatch(/the backup disk is full/);
      const rows = await rpc.send(Rpc.backupCatalogList, { limit: 10 });
      expect(rows.backups.map((b) => b.status)).toEqual(['failed']);
      expect(rows.backups[0].error).toMatch(/No space left on device/);
      expect(readdirSync(mount)).toEqual([]);
    } finally {
      await fx?.stop();
      execFileSync('umount', [mount]);
    }
  });

  it('the database unreachable: a clear error and no row claiming a backup; later backups work', async () => {
    const dir = scratchDir(stack.dataDir, 'backup-db-down');
    const own = await startStack({ dataDir: join(dir, 'stack') });
    try {
      runAllMigrations(REPO_ROOT, own.databaseUrl);
      const platform = await launchPlatform({
        root: REPO_ROOT,
        natsUrl: own.natsUrl,
        natsSeeds: own.natsSeeds,
        databaseUrl: own.databaseUrl,
        redisUrl: own.redisUrl,
        workspacesDir: join(dir, 'workspaces'),
        backupDir: join(dir, 'backups'),
        logDir: join(dir, 'logs'),
        services: ['backup'],
        env: { LOG_LEVEL: 'warn', BACKUP_SCHEDULE_FULL: 'off', BACKUP_SCHEDULE_DATABASE: 'off', BACKUP_SCHEDULE_DRILL: 'off' },
      });
      const ownNc = await connectNats(own.natsUrl, 'backup-db-down-test', stackNatsCredentials(own));
      const ownRpc = new NatsRpcClient(ownNc, createServiceMetrics('backup-db-down-test'), 60_000);
      try {
        await own.stopServer('postgres');
        const err = await rpcError(ownRpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: false, trigger: '' }));
        expect(err.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
        expect(err.message).toMatch(/database .*unreachable/);
        expect(readdirSync(join(dir, 'backups')).filter((n) => ARCHIVE.test(n))).toEqual([]);
        await own.startServer('postgres');
        const ok = await until(() => ownRpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: false, trigger: '' }).catch(() => undefined), 30_000);
        const rows = await ownRpc.send(Rpc.backupCatalogList, { limit: 10 });
        expect(rows.backups.map((b) => [b.id, b.status])).toEqual([[ok.backup!.id, 'completed']]);
      } finally {
        await ownNc.close();
        await platform.stop();
      }
    } finally {
      await own.stop();
    }
  }, 120_000);
});

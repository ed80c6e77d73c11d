import { backupProgressSubject, ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { rpcError, startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { integrationStack } from '../support/integration-env';
import { stackNatsCredentials } from '@overskill/testing';

const LONG = { timeoutMs: 120_000 };

async function metricValue(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : undefined;
}

// Restore drills: restore into scratch, compare with the manifest, record the RTO, flag a mismatch.
describe('backup: drills', () => {
  const stack = integrationStack();
  let fx: BackupFixture;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let appA: string;

  beforeAll(async () => {
    fx = await startBackupFixture(stack, 'backup-drill');
    nc = await connectNats(stack.natsUrl, 'backup-drill-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('backup-drill-test'), 30_000);
    appA = randomUUID();
    fx.makeRepo(appA);
    fx.psql(`INSERT INTO gateway.teams (id, slug) SELECT gen_random_uuid(), 'team-' || g FROM generate_series(1, 40) g`);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await fx?.stop();
  });

  it('drills the newest backup: restored into scratch, equal to its manifest, RTO recorded, scratch removed', async () => {
    const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'full', encrypt: true, trigger: '' }, LONG);
    const drill = await rpc.send(Rpc.backupDrillRun, { id: '' }, LONG);
    expect(drill).toMatchObject({ backupId: created.backup!.id, ok: true, findings: [] });
    expect(drill.tablesCompared).toBeGreaterThan(5);
    expect(drill.repositoriesCompared).toBe(1);
    expect(Number(drill.rtoMs)).toBeGreaterThan(0);
    const row = (await rpc.send(Rpc.backupArchiveGet, { id: created.backup!.id })).backup!;
    expect(row.drillResult).toBe('passed');
    expect(Number(row.drillRtoMs)).toBe(Number(drill.rtoMs));
    expect(fx.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '${fx.database}_scratch%'`, 'postgres')).toBe('0');
    expect(await metricValue(fx.platform.urls.backup!, 'backup_last_verified_restore_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await metricValue(fx.platform.urls.backup!, 'backup_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('publishes drill progress only on a progress subject from the registry', async () => {
    const progress: string[] = [];
    const subject = backupProgressSubject(randomUUID());
    const sub = nc.subscribe(subject, { callback: (_e, m) => progress.push(m.subject) });
    const drill = await rpc.send(Rpc.backupDrillRun, { id: '', progressSubject: subject }, LONG);
    sub.unsubscribe();
    expect(drill.ok).toBe(true);
    expect(progress.length).toBeGreaterThan(2);
    // A caller cannot make the backup service publish onto another service's subjects.
    for (const bad of ['gateway.keys.create.v1', 'backupprogress.x', 'backupprogress.>']) {
      const err = await rpcError(rpc.send(Rpc.backupArchiveVerify, { id: '', file: 'nothing.tar.zst', progressSubject: bad }, LONG));
      expect(err.code).toBe(ErrorCode.VALIDATION_FAILED);
    }
  });

  it('flags a backup whose restore differs from what its manifest recorded, and counts the failure', async () => {
    const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: false, trigger: '' }, LONG);
    const id = created.backup!.id;
    // The catalog's record of what was backed up says one more team than the archive holds.
    fx.psql(`UPDATE backup.backups SET manifest = jsonb_set(manifest, '{database,tables}',
      (SELECT jsonb_agg(CASE WHEN t->>'table' = 'gateway.teams' THEN jsonb_set(t, '{rows}', to_jsonb((t->>'rows')::int + 1)) ELSE t END)
       FROM jsonb_array_elements(manifest->'database'->'tables') t)) WHERE id = '${id}'`);
    const drill = await rpc.send(Rpc.backupDrillRun, { id }, LONG);
    expect(drill.ok).toBe(false);
    expect(drill.findings).toEqual(['table gateway.teams: 40 rows restored, 41 backed up']);
    const row = (await rpc.send(Rpc.backupArchiveGet, { id })).backup!;
    expect(row.drillResult).toBe('failed');
    expect(row.drillDetail).toContain('gateway.teams');
    expect(await metricValue(fx.platform.urls.backup!, 'backup_drill_failures_total')).toBe(1);
  });
});

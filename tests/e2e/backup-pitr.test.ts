import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { stackNatsCredentials } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { rpcError, type BackupFixture } from '../support/backup-fixture';
import { integrationStack, REPO_ROOT } from '../support/integration-env';
import { startPitrFixture, type PitrFixture } from '../support/pitr-fixture';

const LONG = { timeoutMs: 180_000 };
// Short here to keep the test quick; the drill and the bench use the 30 s.
const CANARY_MS = 400;
const ARCHIVE_TIMEOUT_S = 1;
// Each step restores or replays; a busy machine (several suites at once) makes that slow.
const STEP_MS = 300_000;

interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
const pg = require('pg') as { Client: new (config: { connectionString: string }) => PgClient };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Point-in-time recovery on a PostgreSQL cluster of the test's own, archiving its WAL through
// deploy/scripts/wal-archive.sh: a canary row written on a short interval, the cluster destroyed,
// the database restored to the latest point and to a chosen moment, the loss window measured.
// The archive has a second copy: segments lost or damaged in the primary are read from it.
describe('backup: point-in-time recovery', () => {
  const stack = integrationStack();
  let pitr: PitrFixture;
  let fx: BackupFixture;
  let walDir: string;
  let walCopyDir: string;
  let baseStartWal = '';
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let baseId = '';
  const written: { n: number; at: number }[] = [];
  let middle = { n: 0, at: 0 };

  beforeAll(async () => {
    pitr = await startPitrFixture(stack, 'backup-pitr', { archiveTimeoutS: ARCHIVE_TIMEOUT_S, walCopy: true });
    ({ fx, walDir } = pitr);
    walCopyDir = pitr.walCopyDir as string;
    fx.psql('CREATE SCHEMA canary; CREATE TABLE canary.ticks (n int PRIMARY KEY, at timestamptz NOT NULL)');
    nc = await connectNats(stack.natsUrl, 'backup-pitr-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('backup-pitr-test'), 30_000);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await pitr?.stop();
  });

  async function writeCanaries(count: number): Promise<void> {
    const client = new pg.Client({ connectionString: fx.databaseUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for (let i = 0; i < count; i++) {
        const n = written.length + 1;
        const at = new Date();
        await client.query('INSERT INTO canary.ticks (n, at) VALUES ($1, $2)', [n, at]);
        written.push({ n, at: at.getTime() });
        await sleep(CANARY_MS);
      }
    } finally {
      await client.end();
    }
  }

  function canaries(database: string): number[] {
    const out = fx.psql(`SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM canary.ticks`, database);
    return out ? out.split(',').map(Number) : [];
  }

  it(
    'takes a base backup only while WAL archiving reaches the archive, and verifies it with its WAL chain',
    async () => {
      const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'base', encrypt: true, trigger: '' }, LONG);
      baseId = created.backup!.id;
      expect(created.backup!.fileName).toMatch(/-base-[0-9a-f]{8}\.tar\.zst\.age$/);
      const manifest = JSON.parse(created.manifestJson);
      baseStartWal = manifest.base.startWal;
      expect(manifest.base).toMatchObject({ timeline: 1, walSegmentBytes: 16 * 1024 * 1024 });
      expect(manifest.artifacts.map((a: { path: string }) => a.path).sort()).toEqual(['base/backup_manifest', 'base/base.tar']);
      await writeCanaries(10);
      const verified = await rpc.send(Rpc.backupArchiveVerify, { id: baseId }, LONG);
      expect(verified.checks.filter((c) => !c.ok)).toEqual([]);
      expect(verified.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['pg_verifybackup base/base.tar', 'WAL chain']));
      // Every stored segment is ciphertext: no plaintext WAL at rest.
      const stored = readdirSync(walDir).filter((f) => /^[0-9A-F]{24}\.zst\.age$/.test(f));
      expect(stored.length).toBeGreaterThan(1);
      expect(readFileSync(join(walDir, stored[0])).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
      // archive_command wrote the same segments to the second copy.
      expect(readdirSync(walCopyDir).filter((f) => /^[0-9A-F]{24}\.zst\.age$/.test(f))).toEqual(expect.arrayContaining(stored));
      // Retention drops the WAL older than the oldest kept base backup, and nothing it needs.
      const older = stored.filter((f) => f.slice(0, 24) < manifest.base.startWal);
      expect(older.length).toBeGreaterThan(0);
      const pruned = await rpc.send(Rpc.backupArchivePrune, { dryRun: false }, LONG);
      expect(pruned.walSegments).toBe(older.length);
      for (const dir of [walDir, walCopyDir])
        expect(readdirSync(dir).filter((f) => /^[0-9A-F]{24}\.zst\.age$/.test(f) && f.slice(0, 24) < manifest.base.startWal)).toEqual([]);
      expect((await rpc.send(Rpc.backupArchiveVerify, { id: baseId }, LONG)).ok).toBe(true);
    },
    STEP_MS,
  );

  it(
    'drills a base backup by replaying all its WAL into scratch and comparing every table',
    async () => {
      const drill = await rpc.send(Rpc.backupDrillRun, { id: baseId }, LONG);
      expect(drill.findings).toEqual([]);
      expect(drill).toMatchObject({ backupId: baseId, ok: true });
      expect(drill.tablesCompared).toBeGreaterThan(5);
    },
    STEP_MS,
  );

  it(
    'restores to a chosen moment: rows committed before it present, after it absent',
    async () => {
      await writeCanaries(10);
      middle = written[14];
      const to = new Date(middle.at + CANARY_MS / 2).toISOString();
      // Archiving catches up within archive_timeout.
      await sleep(ARCHIVE_TIMEOUT_S * 1000 + 1500);
      // Through the operator's CLI, with its progress (WAL segments checked and replayed) on stderr.
      const run = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/tools/cli/src/main.js'), 'backup', 'restore', '--to', to, '--json'], {
        env: { ...process.env, NATS_URL: stack.natsUrl, NATS_NKEY_SEED: stack.natsSeeds.cli },
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(run.status).toBe(0);
      const r = JSON.parse(run.stdout);
      const steps = run.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(steps.filter((p) => p.step === 'wal').pop()).toMatchObject({ unit: 'segments', done: r.walSegments, total: r.walSegments });
      expect(steps.some((p) => p.step === 'replay')).toBe(true);
      expect(r.backupId).toBe(baseId);
      expect(Date.parse(r.recoveredTo)).toBeLessThanOrEqual(Date.parse(to));
      expect(canaries(r.scratchDatabase)).toEqual(written.slice(0, 15).map((w) => w.n));
      fx.psql(`DROP DATABASE ${r.scratchDatabase} WITH (FORCE)`, 'postgres');
    },
    STEP_MS,
  );

  it(
    'warns of a segment damaged in one copy, and names a segment damaged in both and a gap, in verify and restore, restoring nothing',
    async () => {
      const segments = readdirSync(walDir)
        .filter((f) => /^[0-9A-F]{24}\.zst\.age$/.test(f))
        .sort();
      const victim = segments[Math.floor(segments.length / 2)];
      const files = [join(walDir, victim), join(walCopyDir, victim)];
      const originals = files.map((f) => readFileSync(f));
      const flip = (file: string, original: Buffer) => {
        const flipped = Buffer.from(original);
        flipped[flipped.length - 40] ^= 0x01;
        writeFileSync(file, flipped);
      };
      // One copy damaged: the chain still restores from the other, so verify passes and says so.
      flip(files[0], originals[0]);
      const warned = await rpc.send(Rpc.backupArchiveVerify, { id: baseId }, LONG);
      expect(warned.ok).toBe(true);
      expect(warned.checks.find((c) => c.name === `WAL segment ${victim.slice(0, 24)}`)).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/^warning: .*primary .*sha256/),
      });
      flip(files[1], originals[1]);
      const verified = await rpc.send(Rpc.backupArchiveVerify, { id: baseId }, LONG);
      expect(verified.ok).toBe(false);
      expect(verified.checks.find((c) => !c.ok)).toMatchObject({
        name: `WAL segment ${victim.slice(0, 24)}`,
        detail: expect.stringMatching(/primary .*sha256.*; copy .*sha256/),
      });
      const refused = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: '', file: '', target: 'scratch', force: false, appId: '', to: 'latest' }, LONG));
      expect(refused.code).toBe(ErrorCode.BACKUP_ARCHIVE_INVALID);
      expect(refused.message).toContain(victim.slice(0, 24));
      files.forEach((f, i) => writeFileSync(f, originals[i]));

      for (const f of files) renameSync(f, `${f}.away`);
      const gap = await rpc.send(Rpc.backupArchiveVerify, { id: baseId }, LONG);
      expect(gap.checks.find((c) => !c.ok)).toMatchObject({ name: `WAL segment ${victim.slice(0, 24)}`, detail: expect.stringContaining('gap') });
      const noLatest = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: '', file: '', target: 'scratch', force: false, appId: '', to: 'latest' }, LONG));
      expect(noLatest.message).toContain(`WAL segment ${victim.slice(0, 24)} is missing`);
      for (const f of files) renameSync(`${f}.away`, f);
      expect(fx.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '${fx.database}_scratch%'`, 'postgres')).toBe('0');
    },
    STEP_MS,
  );

  it(
    'refuses what cannot be recovered with a clear error',
    async () => {
      const bad = (to: string) => rpcError(rpc.send(Rpc.backupArchiveRestore, { id: '', file: '', target: 'scratch', force: false, appId: '', to }, LONG));
      expect((await bad('yesterday')).code).toBe(ErrorCode.VALIDATION_FAILED);
      expect((await bad('2026-12-04T10:00:00')).message).toContain('with its zone');
      expect((await bad(new Date(Date.now() + 3_600_000).toISOString())).message).toContain('in the future');
      expect((await bad('2001-01-01T00:00:00Z')).code).toBe(ErrorCode.BACKUP_NOT_FOUND);
      expect((await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: '', file: '', target: 'live', force: false, appId: '', to: 'latest' }, LONG))).code).toBe(
        ErrorCode.BACKUP_FORCE_REQUIRED,
      );
    },
    STEP_MS,
  );

  it(
    'measures the RPO: the cluster destroyed, a new one restored to the latest point, the loss window reported',
    async () => {
      await writeCanaries(10);
      const last = written[written.length - 1];
      // The host dies: no clean shutdown, no last archiving, the data folder gone; a new cluster.
      await pitr.replaceCluster();
      // And the WAL disk lost segments: one gone, one damaged in the primary; the copy has both.
      const needed = readdirSync(walDir)
        .filter((f) => /^[0-9A-F]{24}\.zst\.age$/.test(f) && f.slice(0, 24) >= baseStartWal)
        .sort();
      expect(needed.length).toBeGreaterThan(2);
      unlinkSync(join(walDir, needed[1]));
      const damaged = readFileSync(join(walDir, needed[2]));
      damaged[damaged.length - 40] ^= 0x01;
      writeFileSync(join(walDir, needed[2]), damaged);
      // A fresh server has no archive_command: a base backup is refused rather than useless.
      const unarchived = await rpcError(rpc.send(Rpc.backupArchiveCreate, { type: 'base', encrypt: true, trigger: '' }, LONG));
      expect(unarchived.code).toBe(ErrorCode.BACKUP_NOT_CONFIGURED);

      const started = Date.now();
      const r = await rpc.send(Rpc.backupArchiveRestore, { id: '', file: '', target: 'live', force: true, appId: '', to: 'latest' }, LONG);
      const rtoMs = Date.now() - started;
      expect(r.safetyBackupId).not.toBe('');
      const present = canaries(fx.database);
      expect(present).toEqual(written.slice(0, present.length).map((w) => w.n));
      const newest = written[present.length - 1];
      const lossMs = last.at - newest.at;
      process.stdout.write(
        `point-in-time restore: ${present.length}/${written.length} canaries back, loss window ${lossMs} ms (archive_timeout ${ARCHIVE_TIMEOUT_S} s), restore ${rtoMs} ms\n`,
      );
      expect(present.length).toBeGreaterThan(20);
      expect(lossMs).toBeLessThan(ARCHIVE_TIMEOUT_S * 1000 + 10_000);
      // The newest canary's commit is the last transaction replayed.
      expect(Date.parse(r.recoveredTo)).toBeGreaterThanOrEqual(newest.at);
      // The service log says which copy each of the two was read from, and why.
      const log = readFileSync(join(fx.dir, 'logs', 'backup.log'), 'utf8');
      expect(log).toContain(`WAL segment ${needed[1].slice(0, 24)} read from the copy in ${walCopyDir}: primary ${walDir}: missing from ${walDir}`);
      expect(log).toMatch(
        new RegExp(`WAL segment ${needed[2].slice(0, 24)} read from the copy in ${walCopyDir}: primary ${walDir}: sha256 [0-9a-f]{64} differs`),
      );
    },
    STEP_MS,
  );
});

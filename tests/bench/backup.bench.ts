import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { integrationStack } from '../support/integration-env';
import { formatGoals, formatTable, goal, machineInfo, print, recordResult } from './support/results';
import { median, ratio } from './support/stats';
import { stackNatsCredentials } from '@overskill/testing';

// A `full` backup (pg_dump in a snapshot with per-table digests, git fsck + bundle of every
// repository, durable Redis, config; tar | zstd | age to two recipients; sha256; a second copy)
// against the seed's baseline `pg_dump | gzip` plus `tar czf` of the workspaces, on the same data,
// alternating in the same run; and the database restore time into scratch (the RTO) against
// `gunzip | psql` of the baseline dump. pgbench scale 10 (~150 MB) by default: scale 70 (~1 GB)
// takes several minutes per round on a shared 2-core machine (BENCH_BACKUP_SCALE=70 for that).

const SCALE = Number(process.env.BENCH_BACKUP_SCALE ?? 10);
const ROUNDS = Number(process.env.BENCH_BACKUP_ROUNDS ?? 2);
const REPOS = 20;

describe('benchmark: backup throughput and restore time', () => {
  const stack = integrationStack();
  let fx: BackupFixture;
  let nc: NatsConnection;

  afterAll(async () => {
    await nc?.close();
    await fx?.stop();
  });

  it(`backs up and restores a pgbench scale ${SCALE} database with ${REPOS} repositories`, async () => {
    const startedAt = new Date().toISOString();
    const machine = machineInfo();
    fx = await startBackupFixture(stack, 'bench-backup', { env: { BACKUP_COPY_DIR: '' } });
    nc = await connectNats(stack.natsUrl, 'bench-backup', stackNatsCredentials(stack));
    const rpc = new NatsRpcClient(nc, createServiceMetrics('bench-backup'), 3_600_000);
    execFileSync('pgbench', ['-i', '-q', '-s', String(SCALE), '--foreign-keys', fx.databaseUrl], { stdio: 'ignore' });
    fx.psql(
      'ALTER TABLE public.pgbench_accounts SET SCHEMA analytics; ALTER TABLE public.pgbench_branches SET SCHEMA analytics; ALTER TABLE public.pgbench_tellers SET SCHEMA analytics; ALTER TABLE public.pgbench_history SET SCHEMA analytics',
    );
    for (let i = 0; i < REPOS; i += 1) {
      const appId = randomUUID();
      fx.makeRepo(appId);
      writeFileSync(join(fx.workspaces, appId, 'asset.bin'), randomBytes(512 * 1024));
      fx.git(join(fx.workspaces, appId), 'add', '.');
      fx.git(join(fx.workspaces, appId), 'commit', '-q', '-m', 'asset');
    }
    const dbBytes = Number(fx.psql('SELECT pg_database_size(current_database())'));
    const repoBytes = Number(execFileSync('du', ['-sb', fx.workspaces], { encoding: 'utf8' }).split('\t')[0]);
    const inputMb = (dbBytes + repoBytes) / 1024 / 1024;
    const baseDir = join(fx.dir, 'baseline');
    mkdirSync(baseDir, { recursive: true });

    const ours: number[] = [];
    const baseline: number[] = [];
    const oursBytes: number[] = [];
    const baselineBytes: number[] = [];
    const stages: Record<string, number>[] = [];
    let lastId = '';
    for (let round = 0; round < ROUNDS; round += 1) {
      let t = performance.now();
      execFileSync('bash', [
        '-c',
        'set -o pipefail; pg_dump "$1" | gzip > "$2/db.sql.gz" && tar -C "$3" -czf "$2/files.tar.gz" .',
        'x',
        fx.databaseUrl,
        baseDir,
        fx.workspaces,
      ]);
      baseline.push((performance.now() - t) / 1000);
      baselineBytes.push(statSync(join(baseDir, 'db.sql.gz')).size + statSync(join(baseDir, 'files.tar.gz')).size);
      t = performance.now();
      const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'full', encrypt: true, trigger: '' });
      ours.push((performance.now() - t) / 1000);
      oursBytes.push(Number(created.backup!.sizeBytes));
      stages.push(JSON.parse(created.manifestJson).timingsMs);
      lastId = created.backup!.id;
    }

    // Restore of the database: ours into a scratch database (verify first: decrypt, checksums,
    // pg_restore --list), the baseline `gunzip | psql` into an empty database.
    let t = performance.now();
    const restored = await rpc.send(Rpc.backupArchiveRestore, { id: lastId, file: '', target: 'scratch', force: false, appId: '' });
    const oursRestore = (performance.now() - t) / 1000;
    expect(fx.psql('SELECT count(*) FROM analytics.pgbench_accounts', restored.scratchDatabase)).toBe(String(SCALE * 100_000));
    fx.psql(`DROP DATABASE ${restored.scratchDatabase}`, 'postgres');
    const plainDb = `${fx.database}_plain`;
    fx.psql(`CREATE DATABASE ${plainDb}`, 'postgres');
    const plainUrl = Object.assign(new URL(fx.databaseUrl), { pathname: `/${plainDb}` }).toString();
    t = performance.now();
    execFileSync('bash', [
      '-c',
      'set -o pipefail; gunzip < "$1" | psql -X -q -v ON_ERROR_STOP=1 -d "$2" > /dev/null',
      'x',
      join(baseDir, 'db.sql.gz'),
      plainUrl,
    ]);
    const baselineRestore = (performance.now() - t) / 1000;
    fx.psql(`DROP DATABASE ${plainDb}`, 'postgres');

    // The drill: restore into scratch and compare every table and ref with the manifest.
    t = performance.now();
    const drill = await rpc.send(Rpc.backupDrillRun, { id: lastId });
    const drillSeconds = (performance.now() - t) / 1000;
    expect(drill.ok).toBe(true);
    rmSync(baseDir, { recursive: true, force: true });

    const oursMbps = inputMb / median(ours);
    const baselineMbps = inputMb / median(baseline);
    const throughputRatio = ratio(oursMbps, baselineMbps);
    // Restore time scaled linearly to 1 GB of database, against the 5-minute goal.
    const restorePerGbSeconds = oursRestore / (dbBytes / 1024 ** 3);
    const goals = [
      goal('full backup throughput ≥ 0.8× the seed baseline (ours/baseline, inverted: baseline/ours ≤ 1.25)', ratio(1, throughputRatio), 1.25, '×'),
      goal('database restore (RTO) per GB', restorePerGbSeconds, 300, 's'),
    ];
    const results = {
      scale: SCALE,
      databaseMb: Math.round(dbBytes / 1024 / 1024),
      repositoriesMb: Math.round(repoBytes / 1024 / 1024),
      fullBackupSeconds: { ours: ours.map((s) => Math.round(s * 100) / 100), baseline: baseline.map((s) => Math.round(s * 100) / 100) },
      throughputMbPerSecond: { ours: Math.round(oursMbps * 10) / 10, baseline: Math.round(baselineMbps * 10) / 10, ratio: throughputRatio },
      archiveMb: { ours: Math.round(median(oursBytes) / 1024 / 1024), baseline: Math.round(median(baselineBytes) / 1024 / 1024) },
      databaseRestoreSeconds: {
        ours: Math.round(oursRestore * 100) / 100,
        baseline: Math.round(baselineRestore * 100) / 100,
        ratio: ratio(oursRestore, baselineRestore),
      },
      restorePerGbSeconds: Math.round(restorePerGbSeconds),
      oursStagesMs: stages,
      drill: {
        seconds: Math.round(drillSeconds * 100) / 100,
        rtoMs: Number(drill.rtoMs),
        tables: drill.tablesCompared,
        repositories: drill.repositoriesCompared,
      },
    };
    recordResult({
      benchmark: 'backup',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      method: {
        data: `pgbench -i -s ${SCALE} (moved into the analytics schema) plus ${REPOS} repositories of 2 commits and a 512 KB binary`,
        ours: 'backup.archive.create.v1 type full, encrypted to 2 age recipients (zstd -3 -T2), timed from the calling process until the catalog row is completed',
        baseline: '`pg_dump <db> | gzip > db.sql.gz && tar czf files.tar.gz <workspaces>`, alternating with ours, same data',
        restore:
          'ours: backup.archive.restore.v1 to scratch (verify first, then pg_restore --single-transaction into a new database, bundles cloned into a scratch folder); baseline: `gunzip | psql` into an empty database',
        rounds: ROUNDS,
      },
      results,
      goals,
    });
    print(`\nbackup — full backup vs pg_dump | gzip + tar czf, pgbench scale ${SCALE} (${machine.cpus} cpus, load ${machine.loadAverage.join(' ')})`);
    print(
      formatTable(
        ['measure', 'ours', 'baseline', 'ratio'],
        [
          ['full backup median s', median(ours).toFixed(2), median(baseline).toFixed(2), ''],
          ['throughput MB/s', results.throughputMbPerSecond.ours, results.throughputMbPerSecond.baseline, `${throughputRatio}×`],
          ['archive MB', results.archiveMb.ours, results.archiveMb.baseline, ''],
          ['database restore s', results.databaseRestoreSeconds.ours, results.databaseRestoreSeconds.baseline, `${results.databaseRestoreSeconds.ratio}×`],
          ['drill s (restore + compare)', results.drill.seconds, '', ''],
        ],
      ),
    );
    print(`stages of ours (ms): ${JSON.stringify(stages)}`);
    print(formatGoals(goals));
  });
});

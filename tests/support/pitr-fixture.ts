import { makeServerWritable, runAllMigrations, startPostgres, type RunningPostgres, type StackNatsSeeds } from '@overskill/testing';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startBackupFixture, type BackupFixture } from './backup-fixture';
import { REPO_ROOT, scratchDir } from './integration-env';

export interface PitrFixture {
  fx: BackupFixture;
  walDir: string;
  // The WAL archive's second copy (archive_command writes both), when asked for.
  walCopyDir: string | null;
  server: RunningPostgres;
  // The host dies (no clean shutdown, no last archiving), its data folder is deleted, and a new
  // empty cluster takes its port with the platform's schemas; the backup service starts again on it.
  replaceCluster(): Promise<void>;
  stop(): Promise<void>;
}

// A PostgreSQL cluster of its own that archives its WAL through deploy/scripts/wal-archive.sh
// (encrypted to the fixture's two keys) into `walDir` (and `walCopyDir`), with a backup service reading that archive.
export async function startPitrFixture(
  stack: { natsUrl: string; natsSeeds: StackNatsSeeds; databaseUrl: string; redisUrl: string; dataDir: string },
  name: string,
  opts: { archiveTimeoutS: number; walCopy?: boolean; env?: Record<string, string> },
): Promise<PitrFixture> {
  const pgDir = scratchDir(stack.dataDir, `${name}-pg`);
  const walDir = join(pgDir, 'wal');
  const walCopyDir = opts.walCopy ? join(pgDir, 'wal-copy') : null;
  for (const dir of [walDir, walCopyDir]) if (dir) makeServerWritable(dir);
  const settings = { archive_mode: 'on', archive_timeout: String(opts.archiveTimeoutS) };
  const server = await startPostgres({ dataDir: join(pgDir, 'cluster'), settings });
  const fx = await startBackupFixture({ ...stack, databaseUrl: server.databaseUrl }, name, {
    env: { BACKUP_WAL_DIR: walDir, ...(walCopyDir ? { BACKUP_WAL_COPY_DIR: walCopyDir } : {}), ...opts.env },
  });
  // What an operator sets: archive_command is reloadable, archive_mode was on from the start.
  fx.psql(
    `ALTER SYSTEM SET archive_command = '${join(REPO_ROOT, 'deploy/scripts/wal-archive.sh')} %p %f ${[walDir, walCopyDir].filter(Boolean).join(',')} ${fx.recipients.join(',')}'`,
  );
  fx.psql('SELECT pg_reload_conf()');
  const pitr: PitrFixture = {
    fx,
    walDir,
    walCopyDir,
    server,
    replaceCluster: async () => {
      await pitr.server.crash();
      rmSync(pitr.server.clusterDir, { recursive: true, force: true });
      pitr.server = await startPostgres({ dataDir: join(pgDir, 'cluster'), port: pitr.server.port, settings });
      fx.psql(`CREATE DATABASE ${fx.database}`, 'postgres');
      runAllMigrations(REPO_ROOT, fx.databaseUrl);
      await fx.relaunch();
    },
    stop: async () => {
      await fx.stop().catch(() => undefined);
      await pitr.server.stop();
    },
  };
  return pitr;
}

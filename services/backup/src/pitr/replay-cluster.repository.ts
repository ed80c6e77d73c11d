import { Injectable } from '@nestjs/common';
import { chmodSync, chownSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runTool } from '../tools/run-tool';

interface Client {
  connect(): Promise<void>;
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
const pg = require('pg') as { Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => Client };

const PORT = 5432;
const START_TIMEOUT_SECONDS = 3600;

export interface ReplayTarget {
  // ISO time; null = replay all the WAL there is.
  time: string | null;
}

export interface ReplayedCluster {
  // A connection string over the private unix socket for `database` as `user`.
  url: string;
  // The commit time of the last transaction replayed (null when none was).
  lastReplayedAt: string | null;
  systemIdentifier: string;
  stop(): Promise<void>;
}

type SystemUser = { uid: number; gid: number };

// PostgreSQL refuses to run as root; the postgresql package creates this user.
function postgresUser(): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === 'postgres');
  if (!entry) throw new Error('the backup service runs as root and there is no postgres user to run the replay server as');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

function chownTree(path: string, user: SystemUser): void {
  chownSync(path, user.uid, user.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}

// The postgres user must reach its folders through root's (traverse only, no listing).
function traversable(path: string): void {
  for (let dir = dirname(resolve(path)); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
  }
}

function quoteConf(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

// A private PostgreSQL server on a unix socket (no TCP) that replays a base backup and the WAL
// up to a moment, then promotes: PostgreSQL's own recovery, not a re-implementation of it.
@Injectable()
export class ReplayClusterRepository {
  // `dataDir` holds the extracted base backup, `walDir` the plaintext segments to replay.
  async replay(opts: {
    binDir: string;
    dataDir: string;
    walDir: string;
    logFile: string;
    target: ReplayTarget;
    user: string;
    database: string;
  }): Promise<ReplayedCluster> {
    const bin = (name: string) => (opts.binDir ? join(opts.binDir, name) : name);
    const socketDir = await mkdtemp(join(tmpdir(), 'overskill-replay-'));
    const hba = join(socketDir, 'pg_hba.conf');
    await writeFile(hba, 'local all all trust\n');
    // A server configured outside its data folder (Debian's /etc/postgresql) left none in the backup.
    const conf = join(opts.dataDir, 'postgresql.conf');
    if (
      !(await readFile(conf).then(
        () => true,
        () => false,
      ))
    )
      await writeFile(conf, '');
    const settings: Record<string, string> = {
      restore_command: `cp "${opts.walDir}/%f" "%p"`,
      recovery_target_action: 'promote',
      recovery_target_timeline: 'current',
      archive_mode: 'off',
      // Connections open only once recovery is over; it also spares the hot-standby parameter checks.
      hot_standby: 'off',
      listen_addresses: '',
      unix_socket_directories: socketDir,
      port: String(PORT),
      hba_file: hba,
      ssl: 'off',
      logging_collector: 'off',
      // PostgreSQL reads "2026-12-04 21:05:00.123+00", not the ISO form with T and Z.
      ...(opts.target.time ? { recovery_target_time: opts.target.time.replace('T', ' ').replace(/Z$/, '+00'), recovery_target_inclusive: 'true' } : {}),
    };
    await appendFile(
      join(opts.dataDir, 'postgresql.auto.conf'),
      `\n${Object.entries(settings)
        .map(([k, v]) => `${k} = ${quoteConf(v)}`)
        .join('\n')}\n`,
    );
    await writeFile(join(opts.dataDir, 'recovery.signal'), '');
    await rm(join(opts.dataDir, 'postmaster.pid'), { force: true });
    const user = postgresUser();
    chmodSync(opts.dataDir, 0o700);
    if (user) {
      for (const p of [opts.dataDir, opts.walDir, socketDir]) chownTree(p, user);
      traversable(opts.dataDir);
      traversable(opts.walDir);
      traversable(socketDir);
      await writeFile(opts.logFile, '');
      chownSync(opts.logFile, user.uid, user.gid);
      traversable(opts.logFile);
    }
    const stop = async () => {
      await runTool(bin('pg_ctl'), ['-D', opts.dataDir, '-m', 'immediate', '-w', 'stop'], { user }).catch(() => undefined);
      await rm(socketDir, { recursive: true, force: true });
    };
    try {
      await runTool(bin('pg_ctl'), ['-D', opts.dataDir, '-l', opts.logFile, '-w', '-t', String(START_TIMEOUT_SECONDS), 'start'], { user });
    } catch (err) {
      await stop();
      throw new Error(`PostgreSQL could not replay the WAL: ${await this.logReason(opts.logFile, (err as Error).message)}`);
    }
    const url = `postgresql://${encodeURIComponent(opts.user)}@/${encodeURIComponent(opts.database)}?host=${encodeURIComponent(socketDir)}&port=${PORT}`;
    try {
      const client = await this.connectWhenPromoted(url, bin, opts.dataDir, opts.logFile, user);
      try {
        const { rows } = await client.query(`SELECT pg_last_xact_replay_timestamp() AS at, (SELECT system_identifier::text FROM pg_control_system()) AS sysid`);
        const at = rows[0]?.at as Date | null;
        return { url, lastReplayedAt: at ? at.toISOString() : null, systemIdentifier: String(rows[0]?.sysid), stop };
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch (err) {
      await stop();
      throw err;
    }
  }

  // pg_ctl may return while WAL is still replaying; connections open once recovery has promoted.
  private async connectWhenPromoted(url: string, bin: (n: string) => string, dataDir: string, logFile: string, user: SystemUser | undefined): Promise<Client> {
    const deadline = Date.now() + START_TIMEOUT_SECONDS * 1000;
    for (;;) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query('SELECT pg_is_in_recovery() AS r');
        if (!rows[0]?.r) return client;
        await client.end().catch(() => undefined);
      } catch (err) {
        await client.end().catch(() => undefined);
        const running = await runTool(bin('pg_ctl'), ['-D', dataDir, 'status'], { user }).then(
          () => true,
          () => false,
        );
        if (!running) throw new Error(`PostgreSQL could not replay the WAL: ${await this.logReason(logFile, (err as Error).message)}`);
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not finish replaying within ${START_TIMEOUT_SECONDS} s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  // The server log's FATAL/PANIC lines say why recovery stopped (target not reached, bad WAL).
  private async logReason(logFile: string, fallback: string): Promise<string> {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const lines = log
      .split('\n')
      .filter((l) => /FATAL|PANIC|invalid value/.test(l))
      .map((l) => l.replace(/^.*?(FATAL|PANIC|LOG):\s*/, ''));
    return lines.length > 0 ? lines.slice(-2).join(' | ') : fallback;
  }
}

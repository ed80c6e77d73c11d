import { Inject, Injectable } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaseBackupInfo } from '../archive/backup-manifest';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { runTool } from '../tools/run-tool';
import { segmentOfLsn } from '../wal/wal-segment';

// `pg` ships no type declarations; the little used here is typed by hand.
interface Client {
  connect(): Promise<void>;
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
const pg = require('pg') as { Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => Client };

export interface ArchivingSettings {
  archiveMode: string;
  archiveCommand: string;
  archiveTimeoutSeconds: number;
  walSegmentBytes: number;
  systemIdentifier: string;
  serverVersion: string;
}

// The server's major version (15 from "15.8 (Debian 15.8-0+deb12u1)").
export function serverMajor(version: string): string {
  return /^(\d+)/.exec(version)?.[1] ?? '';
}

// PostgreSQL's own physical backup: `pg_basebackup` in tar format without WAL (the WAL comes
// from the archive, which pg_basebackup waits for), plus the server's archiving settings.
@Injectable()
export class BaseBackupRepository {
  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  // The folder with pg_ctl, postgres and pg_verifybackup of the given major version.
  binDir(major: string): string {
    if (this.env.BACKUP_PG_BIN_DIR) return this.env.BACKUP_PG_BIN_DIR;
    const versioned = `/usr/lib/postgresql/${major}/bin`;
    return existsSync(join(versioned, 'pg_ctl')) ? versioned : '';
  }

  tool(major: string, name: string): string {
    const dir = this.binDir(major);
    return dir ? join(dir, name) : name;
  }

  async settings(url = this.env.DATABASE_URL): Promise<ArchivingSettings> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT current_setting('archive_mode') AS mode, current_setting('archive_command') AS command,
           (SELECT setting::int FROM pg_settings WHERE name = 'archive_timeout') AS timeout,
           (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')::text AS segment,
           (SELECT system_identifier::text FROM pg_control_system()) AS sysid, current_setting('server_version') AS version`,
      );
      const r = rows[0] as { mode: string; command: string; timeout: number; segment: string; sysid: string; version: string };
      return {
        archiveMode: r.mode,
        archiveCommand: r.command,
        archiveTimeoutSeconds: r.timeout,
        walSegmentBytes: Number(r.segment),
        systemIdentifier: r.sysid,
        serverVersion: r.version,
      };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  // Writes base.tar and backup_manifest into `dir`; returns where the backup sits in the WAL.
  async take(dir: string, settings: ArchivingSettings): Promise<BaseBackupInfo> {
    await runTool(
      this.tool(serverMajor(settings.serverVersion), 'pg_basebackup'),
      ['--dbname', this.env.DATABASE_URL, '--pgdata', dir, '--format=tar', '--wal-method=none', '--checkpoint=fast', '--no-sync'],
      { env: { PGCONNECT_TIMEOUT: '10' } },
    );
    const finishedAt = new Date().toISOString();
    const manifest = JSON.parse(await readFile(join(dir, 'backup_manifest'), 'utf8')) as {
      'WAL-Ranges'?: { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[];
    };
    const range = manifest['WAL-Ranges']?.[0];
    if (!range) throw new Error('pg_basebackup wrote a backup_manifest without a WAL range');
    const bytes = settings.walSegmentBytes;
    return {
      systemIdentifier: settings.systemIdentifier,
      serverVersion: settings.serverVersion,
      timeline: range.Timeline,
      startLsn: range['Start-LSN'],
      endLsn: range['End-LSN'],
      startWal: segmentOfLsn(range['Start-LSN'], range.Timeline, bytes),
      endWal: segmentOfLsn(range['End-LSN'], range.Timeline, bytes),
      walSegmentBytes: bytes,
      finishedAt,
    };
  }

  // PostgreSQL's own check of a base backup: every file against backup_manifest's checksums.
  async verify(major: string, dataDir: string, manifestFile: string): Promise<void> {
    await runTool(this.tool(major, 'pg_verifybackup'), ['--no-parse-wal', '--quiet', '--manifest-path', manifestFile, dataDir]);
  }
}

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerLaunch } from './managed-server';
import { readLogTail } from './log-tail';
import { withPostgresClient } from './postgres-client';
import { chownRecursive, findPostgresSystemUser, makeAncestorsTraversable, type SystemUser } from './postgres-system-user';

export const POSTGRES_USER = 'overskill';
export const POSTGRES_PASSWORD = 'overskill';
export const POSTGRES_DATABASE = 'overskill';
// Unix socket paths are limited to 107 bytes; ".s.PGSQL.<port>.lock" needs room.
const MAX_SOCKET_DIR_LENGTH = 80;

export function postgresUrl(port: number, database = POSTGRES_DATABASE): string {
  return `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:${port}/${database}`;
}

// `settings` become `-c name=value` (WAL archiving for backup tests).
export function postgresLaunch(options: { binDir: string; port: number; dataDir: string; logFile: string; settings?: Record<string, string> }): ServerLaunch {
  const clusterDir = path.join(options.dataDir, 'postgres');
  const socketDir = chooseSocketDir(options.dataDir);
  const runAs = process.getuid?.() === 0 ? findPostgresSystemUser() : undefined;
  const adminUrl = postgresUrl(options.port, 'postgres');

  return {
    name: 'postgres',
    command: path.join(options.binDir, 'postgres'),
    args: [
      '-D',
      clusterDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-k',
      socketDir,
      // Seven services with pools of their own, plus test replicas.
      '-c',
      'max_connections=200',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    ports: [{ label: 'postgres', port: options.port }],
    runAs,
    stopSignal: 'SIGINT',
    exitSignal: 'SIGQUIT',
    prepare: () => prepareCluster({ binDir: options.binDir, clusterDir, socketDir, logFile: options.logFile, runAs }),
    isReady: () => withPostgresClient(adminUrl, async (client) => (await client.query('SELECT 1')).rows.length === 1),
    afterReady: () =>
      withPostgresClient(adminUrl, async (client) => {
        const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [POSTGRES_DATABASE]);
        if (existing.rows.length === 0) await client.query(`CREATE DATABASE ${POSTGRES_DATABASE} OWNER ${POSTGRES_USER}`);
      }),
  };
}

function chooseSocketDir(dataDir: string): string {
  const inside = path.join(dataDir, 'postgres-socket');
  if (inside.length <= MAX_SOCKET_DIR_LENGTH) return inside;
  // Same data folder, same socket folder: stable across runs.
  const digest = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `overskill-pg-${digest}`);
}

async function prepareCluster(options: {
  binDir: string;
  clusterDir: string;
  socketDir: string;
  logFile: string;
  runAs: SystemUser | undefined;
}): Promise<void> {
  const { clusterDir, socketDir, runAs } = options;
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    if (fs.statSync(clusterDir).uid !== runAs.uid) chownRecursive(clusterDir, runAs);
    chownRecursive(socketDir, runAs);
    makeAncestorsTraversable(clusterDir);
    makeAncestorsTraversable(socketDir);
  }

  const entries = fs.readdirSync(clusterDir);
  if (entries.includes('PG_VERSION')) return;
  if (entries.length > 0) {
    throw new Error(`${clusterDir} is neither empty nor a PostgreSQL data folder: remove it to start a fresh cluster`);
  }
  await initCluster(options);
}

async function initCluster(options: { binDir: string; clusterDir: string; socketDir: string; logFile: string; runAs: SystemUser | undefined }): Promise<void> {
  // The socket folder belongs to the server's user, so it is a place that user can read.
  const passwordFile = path.join(options.socketDir, 'initdb-password');
  fs.writeFileSync(passwordFile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
  if (options.runAs) fs.chownSync(passwordFile, options.runAs.uid, options.runAs.gid);
  const log = fs.openSync(options.logFile, 'a');
  try {
    const args = [
      '-D',
      options.clusterDir,
      '-U',
      POSTGRES_USER,
      `--pwfile=${passwordFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '--encoding=UTF8',
      // C locale: a minimal machine may have no other generated locale.
      '--locale=C',
      // Skipping initdb's fsync of every file saves seconds on each test run.
      '--no-sync',
    ];
    fs.writeSync(log, `\n--- ${new Date().toISOString()} initdb ${args.join(' ')}\n`);
    const child = spawn(path.join(options.binDir, 'initdb'), args, {
      stdio: ['ignore', log, log],
      uid: options.runAs?.uid,
      gid: options.runAs?.gid,
    });
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
    if (exitCode !== 0) {
      throw new Error(`initdb failed (exit code ${exitCode}); last lines of ${options.logFile}:\n${readLogTail(options.logFile, 30)}`);
    }
  } finally {
    fs.closeSync(log);
    fs.rmSync(passwordFile, { force: true });
  }
}

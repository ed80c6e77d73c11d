import { AppError } from '@overskill/contracts';
import { launchPlatform, runAllMigrations, type RunningPlatform, type StackNatsSeeds } from '@overskill/testing';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, scratchDir } from './integration-env';

export interface BackupFixture {
  databaseUrl: string;
  database: string;
  redisUrl: string;
  dir: string;
  workspaces: string;
  backupDir: string;
  copyDir: string;
  keysDir: string;
  onlineKey: string;
  recoveryKey: string;
  recipients: string[];
  platform: RunningPlatform;
  psql(sql: string, database?: string): string;
  git(cwd: string, ...args: string[]): string;
  makeRepo(appId: string): Record<string, string>;
  // The backup service stopped and started again on the same settings (after its database was replaced).
  relaunch(): Promise<void>;
  stop(): Promise<void>;
}

function ageKey(file: string): string {
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  return /public key: (age1\w+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
}

// A platform of its own for backup tests: a fresh database on the harness's PostgreSQL with every
// service's migrations, its own Redis database number, workspaces with real repositories, two age
// keys (online, offline recovery) kept outside the backup folders, and the backup service.
export async function startBackupFixture(
  stack: { natsUrl: string; natsSeeds: StackNatsSeeds; databaseUrl: string; redisUrl: string; dataDir: string },
  name: string,
  opts: { env?: Record<string, string>; backupDir?: string } = {},
): Promise<BackupFixture> {
  const dir = scratchDir(stack.dataDir, name);
  const database = `bk_${randomBytes(4).toString('hex')}`;
  const psql = (sql: string, db = database) => {
    const url = new URL(stack.databaseUrl);
    url.pathname = `/${db}`;
    return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url.toString(), '-c', sql], { encoding: 'utf8' }).trim();
  };
  psql(`CREATE DATABASE ${database}`, 'postgres');
  const databaseUrl = (() => {
    const url = new URL(stack.databaseUrl);
    url.pathname = `/${database}`;
    return url.toString();
  })();
  runAllMigrations(REPO_ROOT, databaseUrl);
  const redisUrl = `${stack.redisUrl.replace(/\/\d*$/, '')}/${1 + (randomBytes(1)[0] % 14)}`;
  const workspaces = join(dir, 'workspaces');
  const backupDir = opts.backupDir ?? join(dir, 'backups');
  const copyDir = join(dir, 'offsite');
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  mkdirSync(workspaces, { recursive: true });
  const onlineKey = join(keysDir, 'online.key');
  const recoveryKey = join(keysDir, 'recovery.key');
  const recipients = [ageKey(onlineKey), ageKey(recoveryKey)];
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@e',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
  const makeRepo = (appId: string) => {
    const repo = join(workspaces, appId);
    mkdirSync(repo, { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'index.html'), `<h1>${appId}</h1>\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'first');
    git(repo, 'tag', '-a', '-m', 'v1', 'bookmark/first');
    git(repo, 'branch', 'feature');
    writeFileSync(join(repo, 'app.js'), 'console.log(1)\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'second');
    mkdirSync(join(repo, '.git', 'overskill'), { recursive: true });
    writeFileSync(join(repo, '.git', 'overskill', 'app.json'), JSON.stringify({ appId, createdAt: new Date().toISOString(), source: 'template' }));
    const refs: Record<string, string> = {};
    for (const line of git(repo, 'for-each-ref', '--format=%(objectname) %(refname)').split('\n')) {
      const [sha, ref] = line.split(' ');
      refs[ref] = sha;
    }
    return refs;
  };
  const launch = () =>
    launchPlatform({
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl,
      redisUrl,
      workspacesDir: workspaces,
      backupDir,
      logDir: join(dir, 'logs'),
      services: ['backup'],
      env: {
        LOG_LEVEL: 'warn',
        BACKUP_COPY_DIR: copyDir,
        BACKUP_AGE_RECIPIENTS: recipients.join(','),
        BACKUP_AGE_IDENTITY_FILE: onlineKey,
        BACKUP_SCRATCH_DATABASE_PREFIX: `${database}_scratch`,
        BACKUP_SCHEDULE_FULL: 'off',
        BACKUP_SCHEDULE_DATABASE: 'off',
        BACKUP_SCHEDULE_DRILL: 'off',
        ...opts.env,
      },
    });
  const platform = await launch();
  const fixture: BackupFixture = {
    databaseUrl,
    database,
    redisUrl,
    dir,
    workspaces,
    backupDir,
    copyDir,
    keysDir,
    onlineKey,
    recoveryKey,
    recipients,
    platform,
    psql,
    git,
    makeRepo,
    relaunch: async () => {
      await fixture.platform.stop();
      fixture.platform = await launch();
    },
    stop: async () => {
      await fixture.platform.stop();
      psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, 'postgres');
    },
  };
  return fixture;
}

// The AppError a call answered with; fails the test when it succeeded.
export async function rpcError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

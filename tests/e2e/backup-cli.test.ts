import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { integrationStack, REPO_ROOT } from '../support/integration-env';

// The operator surface: `overskill backup …` and the seed's deploy/scripts/backup-restore.sh.
describe('backup: CLI and backup-restore.sh', () => {
  const stack = integrationStack();
  let fx: BackupFixture;
  const cliPath = join(REPO_ROOT, 'dist/tools/cli/src/main.js');
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cliPath, ...args], {
      env: { ...process.env, NATS_URL: stack.natsUrl, NATS_NKEY_SEED: stack.natsSeeds.cli },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const script = (...args: string[]) => {
    const r = spawnSync(join(REPO_ROOT, 'deploy/scripts/backup-restore.sh'), args, {
      env: { ...process.env, NATS_URL: stack.natsUrl, NATS_NKEY_SEED: stack.natsSeeds.cli, OVERSKILL_CLI: `${process.execPath} ${cliPath}` },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    fx = await startBackupFixture(stack, 'backup-cli');
    fx.makeRepo(randomUUID());
  }, 120_000);

  afterAll(async () => {
    await fx?.stop();
  });

  it('creates, lists, verifies and restores into scratch with --json', () => {
    const created = cli('backup', 'create', '--type', 'full', '--encrypt', '--compress', '--json');
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const b = JSON.parse(created.stdout);
    expect(b).toMatchObject({ type: 'full', status: 'completed', encrypted: true });
    expect(b.manifest.artifacts.length).toBeGreaterThan(3);

    const list = JSON.parse(cli('backup', 'list', '--json').stdout);
    expect(list[0]).toMatchObject({ id: b.id, type: 'full', status: 'completed' });

    const verified = cli('backup', 'verify', '--file', b.fileName, '--json');
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout).ok).toBe(true);
    // Progress arrives as JSON lines on stderr: bytes of each step, a rate, an ETA; the archive read whole.
    const progress = verified.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(new Set(progress.map((p) => p.step))).toEqual(new Set(['checksum', 'unpack', 'artifacts']));
    const unpacked = progress.filter((p) => p.step === 'unpack').pop();
    expect(unpacked).toMatchObject({ progress: 'verify', unit: 'bytes', done: b.sizeBytes, total: b.sizeBytes, etaS: 0 });
    expect(unpacked.ratePerS).toBeGreaterThan(0);

    const restored = cli('backup', 'restore', '--file', b.fileName, '--target', 'scratch', '--json');
    expect(restored.status).toBe(0);
    const r = JSON.parse(restored.stdout);
    expect(r.scratchDatabase).toContain('_scratch_');
    fx.psql(`DROP DATABASE ${r.scratchDatabase}`, 'postgres');

    expect(restored.stderr).toContain('"step":"restore"');

    const drill = cli('backup', 'drill', '--json');
    expect(drill.status).toBe(0);
    expect(JSON.parse(drill.stdout)).toMatchObject({ backupId: b.id, ok: true });
    const compared = drill.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((p) => p.step === 'compare')
      .pop();
    expect(compared.done).toBe(compared.total);
    expect(compared.unit).toBe('tables');
    expect(JSON.parse(cli('backup', 'prune', '--dry-run', '--json').stdout)).toEqual({ dryRun: true, walSegments: 0, expired: [] });
  });

  it('refuses unknown flags and live restores without --force, with clear messages and exit codes', () => {
    const typo = cli('backup', 'restore', '--file', 'x.tar.zst', '--target', 'live', '--forse');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/Unknown option '--forse'/);
    const noType = cli('backup', 'create');
    expect(noType.status).toBe(2);
    expect(noType.stderr).toContain('--type');
    const badType = cli('backup', 'create', '--type', 'everything');
    expect(badType.status).toBe(1);
    expect(badType.stderr).toContain('VALIDATION_FAILED');
    const latest = JSON.parse(cli('backup', 'list', '--json').stdout)[0];
    const live = cli('backup', 'restore', '--id', latest.id, '--target', 'live');
    expect(live.status).toBe(1);
    expect(live.stderr).toContain('BACKUP_FORCE_REQUIRED');
    expect(live.stderr).not.toMatch(/\n\s+at /);
  });

  it('backup-restore.sh speaks the seed: backup --type database, list, verify --file', () => {
    const made = script('backup', '--type', 'database', '--json');
    expect(made.status).toBe(0);
    const b = JSON.parse(made.stdout);
    expect(b.type).toBe('database');
    expect(script('list').stdout).toContain(b.id);
    const v = script('verify', '--file', b.fileName);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/verified/);
    expect(v.stdout).toContain('pg_restore --list database/overskill.dump');
    expect(script('bogus').status).toBe(2);
  });
});

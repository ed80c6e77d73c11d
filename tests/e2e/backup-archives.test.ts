import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { NatsConnection } from 'nats';
import { rpcError, startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { integrationStack } from '../support/integration-env';
import { stackNatsCredentials } from '@overskill/testing';

const LONG = { timeoutMs: 120_000 };

function flipByte(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x01;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

// Backups end to end through the backup service over NATS, on real PostgreSQL, Redis, git, age
// and zstd: create, verify (a flipped byte is found and named), restore into scratch and over
// live data, refusals before anything live is touched.
describe('backup: archives, verify, restore', () => {
  const stack = integrationStack();
  let fx: BackupFixture;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let redis: Redis;
  let appA: string;
  let refsA: Record<string, string>;
  let fullId: string;
  let fullFile: string;

  beforeAll(async () => {
    fx = await startBackupFixture(stack, 'backup-archives');
    nc = await connectNats(stack.natsUrl, 'backup-archives-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('backup-archives-test'), 30_000);
    redis = new Redis(fx.redisUrl);
    // The fixture's Redis database may hold keys an earlier suite left: the counts below are this suite's.
    await redis.flushdb();
    appA = randomUUID();
    refsA = fx.makeRepo(appA);
    fx.makeRepo(randomUUID());
    const teams = Array.from({ length: 25 }, (_, i) => `('${randomUUID()}', 'team-${i}')`).join(',');
    fx.psql(`INSERT INTO gateway.teams (id, slug) VALUES ${teams}`);
    await redis.set('ai:spend:team:t1:2026-12', '12.5');
    await redis.set('ai:model:active-alias', 'fallback');
    await redis.set('ai:cache:entry:abc', 'cached');
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await nc?.close();
    await fx?.stop();
  });

  it('writes one encrypted full archive with a manifest, a second copy, and a catalog row that tells the truth', async () => {
    const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'full', encrypt: true, trigger: '' }, LONG);
    const b = created.backup!;
    fullId = b.id;
    expect(b).toMatchObject({ kind: 'full', status: 'completed', encrypted: true, trigger: 'manual' });
    expect(b.fileName).toMatch(/^overskill-\d{8}T\d{6}Z-full-[0-9a-f]{8}\.tar\.zst\.age$/);
    fullFile = join(fx.backupDir, b.fileName);
    expect(statSync(fullFile).size).toBe(Number(b.sizeBytes));
    expect(readFileSync(`${fullFile}.sha256`, 'utf8')).toBe(`${b.sha256}  ${b.fileName}\n`);
    expect(readFileSync(join(fx.copyDir, b.fileName)).equals(readFileSync(fullFile))).toBe(true);
    // No leftovers: no partial file, no staging folder.
    expect(readdirSync(fx.backupDir).filter((n) => n.endsWith('.partial') || n.startsWith('.staging'))).toEqual([]);

    const manifest = JSON.parse(created.manifestJson);
    expect(manifest.database.systemIdentifier).toMatch(/^\d+$/);
    expect(manifest.database.walLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(manifest.database.schemas).toEqual(expect.arrayContaining(['analytics', 'gateway', 'orchestrator']));
    expect(manifest.database.schemas).not.toContain('backup');
    expect(manifest.database.tables).toContainEqual(expect.objectContaining({ table: 'gateway.teams', rows: 25 }));
    expect(manifest.tools.pg_dump).toMatch(/pg_dump \(PostgreSQL\)/);
    expect(manifest.tools.age).toBeTruthy();
    const repoA = manifest.repositories.find((r: { appId: string }) => r.appId === appA);
    expect(repoA.refs).toEqual(refsA);
    expect(repoA.head).toBe('refs/heads/main');
    expect(repoA.marker).toContain(appA);
    expect(manifest.redis.keys).toBe(2);
    expect(manifest.config.secretsIncluded).toBe(true);
    for (const a of manifest.artifacts)
      expect(a).toEqual({ path: expect.any(String), kind: expect.any(String), sizeBytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(manifest.artifacts.map((a: { path: string }) => a.path)).toEqual(
      expect.arrayContaining(['database/overskill.dump', `repos/${appA}.bundle`, 'redis/durable.rdb', 'config/service.env', 'secrets/service.env']),
    );
    // Secrets only in the secrets/ part of the encrypted archive.
    const list = await rpc.send(Rpc.backupCatalogList, { limit: 10 });
    expect(list.backups.map((x) => x.id)).toContain(fullId);
  });

  it('decrypts with the offline recovery key alone, using only age, zstd and tar', () => {
    const out = spawnSync('bash', ['-c', 'age -d -i "$1" "$2" | zstd -d -q | tar -tf -', 'x', fx.recoveryKey, fullFile], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout.split('\n')[0]).toBe('manifest.json');
    expect(out.stdout).toContain('database/overskill.dump');
    // The private keys are not beside the archives.
    expect(readdirSync(fx.backupDir).some((n) => n.endsWith('.key'))).toBe(false);
    const env = spawnSync('bash', ['-c', 'age -d -i "$1" "$2" | zstd -d -q | tar -xOf - config/service.env', 'x', fx.recoveryKey, fullFile], {
      encoding: 'utf8',
    });
    expect(env.stdout).toContain('BACKUP_COPY_DIR=');
    expect(env.stdout).toMatch(/DATABASE_URL=<secret/);
    expect(env.stdout).not.toContain('overskill:overskill@');
  });

  it('verifies every checksum and test-reads each artifact with its own tool', async () => {
    const v = await rpc.send(Rpc.backupArchiveVerify, { id: fullId, file: '' }, LONG);
    expect(v.ok).toBe(true);
    const names = v.checks.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'archive sha256',
        'manifest',
        'pg_restore --list database/overskill.dump',
        `git bundle verify repos/${appA}.bundle`,
        'redis-check-rdb redis/durable.rdb',
      ]),
    );
    expect(v.checks.every((c) => c.ok)).toBe(true);
    const byFile = await rpc.send(Rpc.backupArchiveVerify, { id: '', file: readdirSync(fx.copyDir).find((n) => n.endsWith('.age'))! }, LONG);
    expect(byFile.ok).toBe(true);
  });

  it('finds a single flipped byte anywhere and names what is wrong', async () => {
    const size = statSync(fullFile).size;
    for (const offset of [10, Math.floor(size / 2), size - 5]) {
      const name = `overskill-20000101T000000Z-full-${offset.toString(16).padStart(8, '0').slice(-8)}.tar.zst.age`;
      const copy = join(fx.backupDir, name);
      copyFileSync(fullFile, copy);
      copyFileSync(`${fullFile}.sha256`, `${copy}.sha256`);
      flipByte(copy, offset);
      const v = await rpc.send(Rpc.backupArchiveVerify, { id: '', file: name }, LONG);
      expect(v.ok).toBe(false);
      const failed = v.checks.filter((c) => !c.ok).map((c) => c.name);
      expect(failed).toContain('archive sha256');
      expect(failed).toContain('decrypt (age), decompress (zstd), extract (tar)');
      execFileSync('rm', ['-f', copy, `${copy}.sha256`]);
    }
  });

  it('names the artifact whose content differs from the manifest', async () => {
    const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'repos', encrypt: false, trigger: '' }, LONG);
    const file = join(fx.backupDir, created.backup!.fileName);
    const work = join(fx.dir, 'repack');
    execFileSync('bash', [
      '-c',
      `mkdir -p "$1" && zstd -d -q < "$2" | tar -C "$1" -xf - && printf 'x' >> "$1/repos/${appA}.bundle" && tar -C "$1" -cf - manifest.json repos | zstd -q > "$3"`,
      'x',
      work,
      file,
      join(fx.backupDir, 'overskill-20000101T000000Z-repos-0000beef.tar.zst'),
    ]);
    const v = await rpc.send(Rpc.backupArchiveVerify, { id: '', file: 'overskill-20000101T000000Z-repos-0000beef.tar.zst' }, LONG);
    expect(v.ok).toBe(false);
    const failed = v.checks.find((c) => !c.ok)!;
    expect(failed.name).toBe(`artifact repos/${appA}.bundle`);
    expect(failed.detail).toMatch(/sha256 [0-9a-f]{64} \(manifest [0-9a-f]{64}\)/);
  });

  it('restores into a scratch database and folder that equal the backup, touching nothing live', async () => {
    const r = await rpc.send(Rpc.backupArchiveRestore, { id: fullId, file: '', target: 'scratch', force: false, appId: '' }, LONG);
    expect(r.scratchDatabase).toBe(`${fx.database}_scratch_${fullId.slice(0, 8)}`);
    expect(fx.psql('SELECT count(*) FROM gateway.teams', r.scratchDatabase)).toBe('25');
    const scratchRepo = join(r.scratchDir, 'repos', appA);
    expect(fx.git(scratchRepo, 'rev-parse', 'HEAD')).toBe(refsA['refs/heads/main']);
    expect(fx.git(scratchRepo, 'rev-parse', 'refs/tags/bookmark/first')).toBe(refsA['refs/tags/bookmark/first']);
    expect(readFileSync(join(scratchRepo, 'app.js'), 'utf8')).toBe('console.log(1)\n');
    expect(r.safetyBackupId).toBe('');
    fx.psql(`DROP DATABASE ${r.scratchDatabase}`, 'postgres');
  });

  it('restores one app’s repository over live only with --force, after a safety backup', async () => {
    const repo = join(fx.workspaces, appA);
    fx.git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    fx.git(repo, 'branch', '-D', 'feature');
    const refused = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: fullId, file: '', target: 'live', force: false, appId: appA }, LONG));
    expect(refused.code).toBe(ErrorCode.BACKUP_FORCE_REQUIRED);
    const r = await rpc.send(Rpc.backupArchiveRestore, { id: fullId, file: '', target: 'live', force: true, appId: appA }, LONG);
    expect(r.restored).toEqual([`repository ${appA}`]);
    expect(r.safetyBackupId).toMatch(/^[0-9a-f-]{36}$/);
    const safety = await rpc.send(Rpc.backupArchiveGet, { id: r.safetyBackupId });
    expect(safety.backup).toMatchObject({ kind: 'repos', status: 'completed', trigger: 'safety' });
    expect(fx.git(repo, 'rev-parse', 'HEAD')).toBe(refsA['refs/heads/main']);
    expect(fx.git(repo, 'rev-parse', 'feature')).toBe(refsA['refs/heads/feature']);
    expect(existsSync(join(repo, '.git', 'overskill', 'app.json'))).toBe(true);
    expect(readdirSync(fx.workspaces).filter((n) => n.startsWith('.overskill-tmp-'))).toEqual([]);
  });

  it('restores the whole platform over live data: database, repositories and durable Redis state', async () => {
    fx.psql(`DELETE FROM gateway.teams WHERE slug IN ('team-1', 'team-2')`);
    fx.psql(`INSERT INTO gateway.teams (id, slug) VALUES ('${randomUUID()}', 'after-backup')`);
    await redis.set('ai:spend:team:t1:2026-12', '99');
    await redis.del('ai:model:active-alias');
    const r = await rpc.send(Rpc.backupArchiveRestore, { id: fullId, file: '', target: 'live', force: true, appId: '' }, LONG);
    expect(r.restored).toEqual(expect.arrayContaining(['database', `repository ${appA}`, 'redis (2 durable keys)']));
    expect(fx.psql(`SELECT count(*) FROM gateway.teams`)).toBe('25');
    expect(fx.psql(`SELECT count(*) FROM gateway.teams WHERE slug = 'after-backup'`)).toBe('0');
    expect(await redis.get('ai:spend:team:t1:2026-12')).toBe('12.5');
    expect(await redis.get('ai:model:active-alias')).toBe('fallback');
    // The backup catalog is not rolled back by a restore.
    const list = await rpc.send(Rpc.backupCatalogList, { limit: 50 });
    expect(list.backups.some((b) => b.id === r.safetyBackupId)).toBe(true);
  });

  it('refuses a tampered or wrong-key archive before anything live is touched', async () => {
    const tampered = 'overskill-20000101T000000Z-full-00000bad.tar.zst.age';
    copyFileSync(fullFile, join(fx.backupDir, tampered));
    flipByte(join(fx.backupDir, tampered), 2000);
    const before = fx.psql('SELECT count(*) FROM gateway.teams');
    fx.psql(`INSERT INTO gateway.teams (id, slug) VALUES ('${randomUUID()}', 'live-only')`);
    const countBefore = (await rpc.send(Rpc.backupCatalogList, { limit: 500 })).backups.length;
    const err = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: '', file: tampered, target: 'live', force: true, appId: '' }, LONG));
    expect(err.code).toBe(ErrorCode.BACKUP_ARCHIVE_INVALID);
    expect(err.message).toMatch(/decrypt|age/);
    expect(fx.psql(`SELECT count(*) FROM gateway.teams WHERE slug = 'live-only'`)).toBe('1');
    expect(Number(fx.psql('SELECT count(*) FROM gateway.teams'))).toBe(Number(before) + 1);
    // No safety backup either: the refusal comes first.
    expect((await rpc.send(Rpc.backupCatalogList, { limit: 500 })).backups.length).toBe(countBefore);

    // An archive for other recipients: age says no identity matched, and nothing is restored.
    const otherKey = join(fx.keysDir, 'other.key');
    execFileSync('age-keygen', ['-o', otherKey], { stdio: 'ignore' });
    const otherPub = /public key: (age1\w+)/.exec(readFileSync(otherKey, 'utf8'))![1];
    const foreign = 'overskill-20000101T000000Z-database-0000f00d.tar.zst.age';
    execFileSync('bash', ['-c', 'age -d -i "$1" "$2" | age -r "$3" > "$4"', 'x', fx.recoveryKey, fullFile, otherPub, join(fx.backupDir, foreign)]);
    const wrongKey = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: '', file: foreign, target: 'live', force: true, appId: '' }, LONG));
    expect(wrongKey.code).toBe(ErrorCode.BACKUP_ARCHIVE_INVALID);
    expect(wrongKey.message).toMatch(/no identity matched/);
    expect(fx.psql(`SELECT count(*) FROM gateway.teams WHERE slug = 'live-only'`)).toBe('1');
  });

  it('refuses to restore over live an archive from a newer schema', async () => {
    fx.psql(`INSERT INTO gateway.migrations (timestamp, name) VALUES (9999999999999, 'FromTheFuture9999999999999')`);
    const created = await rpc.send(Rpc.backupArchiveCreate, { type: 'database', encrypt: true, trigger: '' }, LONG);
    fx.psql(`DELETE FROM gateway.migrations WHERE name = 'FromTheFuture9999999999999'`);
    const err = await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: created.backup!.id, file: '', target: 'live', force: true, appId: '' }, LONG));
    expect(err.code).toBe(ErrorCode.BACKUP_ARCHIVE_TOO_NEW);
    expect(err.message).toContain('FromTheFuture9999999999999');
    expect(fx.psql(`SELECT count(*) FROM gateway.teams WHERE slug = 'live-only'`)).toBe('1');
  });

  it('answers clear errors for bad input', async () => {
    expect((await rpcError(rpc.send(Rpc.backupArchiveCreate, { type: 'everything', encrypt: false, trigger: '' }))).code).toBe(ErrorCode.VALIDATION_FAILED);
    expect((await rpcError(rpc.send(Rpc.backupArchiveVerify, { id: randomUUID(), file: '' }))).code).toBe(ErrorCode.BACKUP_NOT_FOUND);
    expect((await rpcError(rpc.send(Rpc.backupArchiveVerify, { id: '', file: '../../etc/passwd' }))).code).toBe(ErrorCode.BACKUP_NOT_FOUND);
    expect((await rpcError(rpc.send(Rpc.backupArchiveRestore, { id: fullId, file: '', target: 'prod', force: true, appId: '' }))).code).toBe(
      ErrorCode.VALIDATION_FAILED,
    );
    expect((await rpcError(rpc.send(Rpc.backupArchiveGet, { id: 'nope' }))).code).toBe(ErrorCode.VALIDATION_FAILED);
  });
});

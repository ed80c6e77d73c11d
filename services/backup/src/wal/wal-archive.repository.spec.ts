import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { backupEnvSchema } from '../config';
import { WalArchiveRepository } from './wal-archive.repository';

const SCRIPT = resolve(__dirname, '../../../../deploy/scripts/wal-archive.sh');
const MB16 = 16 * 1024 * 1024;
const SEG = ['000000010000000000000003', '000000010000000000000004', '000000010000000000000005'];

// The real archive_command (zstd, no encryption) filling two directories, and the repository
// reading them back: which copy a restore uses, and what verify calls a failure or a warning.
describe('WAL archive with a second copy', () => {
  let root: string;
  let primary: string;
  let copy: string;
  let wal: WalArchiveRepository;

  const archive = (segment: string, dirs: string) => spawnSync('bash', [SCRIPT, join(root, segment), segment, dirs], { encoding: 'utf8' });
  const flip = (file: string) => {
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0x01;
    writeFileSync(file, bytes);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'wal-copy-'));
    primary = join(root, 'wal');
    copy = join(root, 'copy', 'wal');
    for (const s of SEG) {
      writeFileSync(join(root, s), Buffer.from(`${s} `.repeat(4000)));
      expect(archive(s, `${primary},${copy}`).status).toBe(0);
    }
    const env = backupEnvSchema.parse({
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/overskill',
      WORKSPACES_DIR: root,
      BACKUP_DIR: root,
      BACKUP_WAL_DIR: primary,
      BACKUP_WAL_COPY_DIR: copy,
    });
    wal = new WalArchiveRepository(env);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes every segment durably to both directories, and a retry of the same segment succeeds', () => {
    for (const dir of [primary, copy]) expect(readFileSync(join(dir, `${SEG[0]}.zst.sha256`), 'utf8')).toContain('# wal-sha256 ');
    expect(readFileSync(join(primary, `${SEG[0]}.zst`)).equals(readFileSync(join(copy, `${SEG[0]}.zst`)))).toBe(true);
    // The copy was lost after a first success: the retry fills it in and leaves the primary alone.
    unlinkSync(join(copy, `${SEG[0]}.zst`));
    unlinkSync(join(copy, `${SEG[0]}.zst.sha256`));
    expect(archive(SEG[0], `${primary},${copy}`).status).toBe(0);
    expect(existsSync(join(copy, `${SEG[0]}.zst.sha256`))).toBe(true);
  });

  it('exits non-zero unless every copy is durable, and refuses other content or a directory named twice', () => {
    const blocked = join(root, 'not-a-dir');
    writeFileSync(blocked, '');
    writeFileSync(join(root, SEG[2]), 'other content');
    const unwritable = archive(SEG[2], `${join(root, 'fresh')},${blocked}`);
    expect(unwritable.status).not.toBe(0);
    expect(archive(SEG[2], `${primary},${copy}`).stderr).toContain('already exists with different content');
    expect(archive(SEG[2], `${primary},${primary}`)).toMatchObject({ status: 2, stderr: expect.stringContaining('named twice') });
    expect(archive(SEG[2], `,${primary}`)).toMatchObject({ status: 2, stderr: expect.stringContaining('empty archive directory') });
  });

  it('reads from the primary, falls back to the copy when it is missing or damaged there, and fails only with no good copy', async () => {
    const out = join(root, 'out');
    let stored = await wal.stored();
    expect(await wal.read(SEG[0], stored.get(SEG[0]), { out })).toEqual({ segment: SEG[0], usedDir: primary, damaged: [] });
    expect(readFileSync(out, 'utf8')).toBe(`${SEG[0]} `.repeat(4000));

    unlinkSync(join(primary, `${SEG[0]}.zst`));
    flip(join(primary, `${SEG[1]}.zst`));
    stored = await wal.stored();
    expect(await wal.read(SEG[0], stored.get(SEG[0]), { out })).toEqual({
      segment: SEG[0],
      usedDir: copy,
      damaged: [`primary ${primary}: missing from ${primary}`],
    });
    const damaged = await wal.read(SEG[1], stored.get(SEG[1]), { out });
    expect(damaged.usedDir).toBe(copy);
    expect(damaged.damaged).toEqual([expect.stringMatching(new RegExp(`^primary ${primary}: sha256 .* differs`))]);
    expect(readFileSync(out, 'utf8')).toBe(`${SEG[1]} `.repeat(4000));

    flip(join(copy, `${SEG[1]}.zst`));
    const none = await wal.read(SEG[1], (await wal.stored()).get(SEG[1]), { out });
    expect(none.usedDir).toBeNull();
    expect(none.damaged).toEqual([expect.stringContaining(`primary ${primary}: sha256`), expect.stringContaining(`copy ${copy}: sha256`)]);
  });

  it('verifies a segment bad in one place as a warning, bad in both as a problem, and prunes both directories', async () => {
    unlinkSync(join(copy, `${SEG[2]}.zst.sha256`));
    flip(join(primary, `${SEG[1]}.zst`));
    let checked = await wal.check(SEG[0], MB16);
    expect(checked.problems).toEqual([]);
    expect(checked.warnings.map((w) => w.segment)).toEqual([SEG[1], SEG[2]]);
    expect(checked.warnings[1].problem).toContain(`copy ${copy}: ${SEG[2]}.zst.sha256 is missing`);

    flip(join(copy, `${SEG[1]}.zst`));
    checked = await wal.check(SEG[0], MB16);
    expect(checked.problems).toEqual([{ segment: SEG[1], problem: expect.stringMatching(/^primary .*; copy .*differs/) }]);

    expect(await wal.pruneBefore(SEG[2], MB16)).toBe(2);
    const left = (dir: string) => execFileSync('ls', [dir], { encoding: 'utf8' }).trim().split('\n');
    expect(left(primary)).toEqual([`${SEG[2]}.zst`, `${SEG[2]}.zst.sha256`]);
    expect(left(copy)).toEqual([`${SEG[2]}.zst`]);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitCli } from '../git/git-cli';
import { GitRepositoryRepository } from './git-repository.repository';

// HEAD read from the repository's files, and the upkeep after a commit, checked against git itself
// on real repositories.
describe('GitRepositoryRepository on real repositories', () => {
  const identity = { name: 'Spec', email: 'spec@example.com' };
  let root: string;
  let cli: GitCli;
  let history: GitRepositoryRepository;
  let spawned: jest.SpyInstance;
  let dir: string;

  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Spec', '-c', 'user.email=spec@example.com', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  const commitFile = (name: string) => {
    writeFileSync(join(dir, name), `${name}\n`);
    git('add', '-A');
    git('commit', '-q', '-m', name);
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'overskill-head-'));
    cli = new GitCli({ GIT_REMOTE_ALLOW_HTTP: false });
    history = new GitRepositoryRepository(cli);
  });

  afterAll(() => {
    cli.onApplicationShutdown();
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(root, 'repo-'));
    await history.init(dir, identity, 'Initial commit');
    spawned = jest.spyOn(cli, 'run');
  });

  afterEach(() => spawned.mockRestore());

  it("reads a branch's loose ref without starting git", async () => {
    commitFile('a.txt');
    expect(await history.readHead(dir)).toEqual({ sha: git('rev-parse', 'HEAD'), branch: 'main' });
    expect(spawned).not.toHaveBeenCalled();
  });

  it('reads a packed ref (peeled tags around it), and the loose ref once a commit writes one again', async () => {
    git('tag', '-a', 'v1', '-m', 'v1');
    git('branch', 'other');
    git('pack-refs', '--all');
    expect(await history.readHead(dir)).toEqual({ sha: git('rev-parse', 'HEAD'), branch: 'main' });
    commitFile('b.txt');
    expect(await history.readHead(dir)).toEqual({ sha: git('rev-parse', 'HEAD'), branch: 'main' });
    expect(spawned).not.toHaveBeenCalled();
  });

  it('names a branch with slashes, and no branch when HEAD is detached', async () => {
    git('checkout', '-q', '-b', 'feature/deep/x');
    commitFile('c.txt');
    expect(await history.readHead(dir)).toEqual({ sha: git('rev-parse', 'HEAD'), branch: 'feature/deep/x' });
    git('checkout', '-q', '--detach', 'HEAD~1');
    expect(await history.readHead(dir)).toEqual({ sha: git('rev-parse', 'HEAD') });
    expect(spawned).not.toHaveBeenCalled();
  });

  it('leaves a symbolic ref chain to git', async () => {
    git('symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
    git('symbolic-ref', 'HEAD', 'refs/heads/alias');
    expect(await history.readHead(dir)).toEqual({ sha: git('rev-parse', 'HEAD'), branch: 'alias' });
    expect(spawned).toHaveBeenCalledWith(dir, ['rev-parse', 'HEAD']);
  });

  it('fails as git does on a branch with no commit yet', async () => {
    git('symbolic-ref', 'HEAD', 'refs/heads/unborn');
    await expect(history.readHead(dir)).rejects.toThrow(/git exited 128/);
    expect(spawned).toHaveBeenCalledTimes(1);
  });

  it('never reads a path a HEAD file names outside refs/heads: git decides', async () => {
    const sha = git('rev-parse', 'HEAD');
    // A file outside the refs that holds a sha: read by path, it would be taken for the commit.
    writeFileSync(join(dir, '.git', 'planted'), `${'f'.repeat(40)}\n`);
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/../../planted\n');
    await expect(history.readHead(dir)).rejects.toThrow(/git exited/);
    expect(spawned).toHaveBeenCalledTimes(1);
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    expect((await history.readHead(dir)).sha).toBe(sha);
  });

  it('commits without starting git maintenance while git would not pack the repository', async () => {
    writeFileSync(join(dir, 'page.html'), '<p>one</p>\n');
    const made = await history.commitAll(dir, 'One page', identity);
    expect(made).toEqual({ sha: git('rev-parse', 'HEAD'), filesChanged: 1 });
    expect(spawned.mock.calls.map((call) => (call[1] as string[]).filter((arg) => !arg.startsWith('-') && !arg.includes('=')).slice(0, 1))).toEqual([
      ['add'],
      ['commit'],
    ]);
  });

  it('packs the loose objects once git would: more of them than gc.auto allows', async () => {
    // ~7,000 new blobs put more than 27 loose objects in objects/17, git's threshold for gc --auto.
    mkdirSync(join(dir, 'many'));
    for (let i = 0; i < 7000; i++) writeFileSync(join(dir, 'many', `f${i}.txt`), `file ${i}\n`);
    const fanOut = join(dir, '.git', 'objects', '17');
    const looseIn17 = () => (existsSync(fanOut) ? readdirSync(fanOut).filter((name) => /^[0-9a-f]{38}$/.test(name)).length : 0);
    git('add', '-A');
    expect(looseIn17()).toBeGreaterThan(27);
    await history.commitAll(dir, 'Many files', identity);
    expect(spawned).toHaveBeenCalledWith(dir, ['maintenance', 'run', '--auto', '--quiet']);
    expect(looseIn17()).toBeLessThanOrEqual(27);
    expect(readdirSync(join(dir, '.git', 'objects', 'pack')).some((name) => name.endsWith('.pack'))).toBe(true);
    expect(git('cat-file', '-t', 'HEAD:many/f6999.txt')).toBe('blob');
  }, 60_000);

  it('leaves a ref file that does not hold a whole sha to git', async () => {
    writeFileSync(join(dir, '.git', 'refs', 'heads', 'main'), 'not a sha\n');
    await expect(history.readHead(dir)).rejects.toThrow(/git exited/);
    expect(spawned).toHaveBeenCalledTimes(1);
  });
});

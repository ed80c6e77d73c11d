import { Rpc, gitV1 } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// git-service as a user of its subjects sees it: a real replica, real git, real Redis lock.
describe('git-service: repositories, history, branches, restore, bookmarks', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'git-repository');
    workspaces = join(dir, 'workspaces');
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['git-service'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'git-repository-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-repository-test'), 10_000);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  const git = (appId: string, ...args: string[]) => {
    const result = spawnSync('git', args, {
      cwd: join(workspaces, appId),
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Outside Dev',
        GIT_AUTHOR_EMAIL: 'outside@dev.test',
        GIT_COMMITTER_NAME: 'Outside Dev',
        GIT_COMMITTER_EMAIL: 'outside@dev.test',
      },
    });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  };
  const write = (appId: string, path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(workspaces, appId, path)), { recursive: true });
    writeFileSync(join(workspaces, appId, path), content);
  };
  const read = (appId: string, path: string) => readFileSync(join(workspaces, appId, path), 'utf8');
  const newApp = async (template = 'empty') => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId, template });
    return appId;
  };
  const commit = (appId: string, message: string, author = { authorName: 'Bob Builder', authorEmail: 'bob@example.com' }) =>
    rpc.send(Rpc.gitRepoCommit, { appId, message, ...author });

  it('creates a repository from each template, with the configured identity and a marker for cleanup', async () => {
    const appId = randomUUID();
    const init = await rpc.send(Rpc.gitRepoInit, { appId, template: 'vite-react', authorName: 'Alice Owner', authorEmail: 'alice@example.com' });
    expect(init).toMatchObject({ headSha: expect.stringMatching(/^[0-9a-f]{40}$/), branch: 'main' });
    const pkg = JSON.parse(read(appId, 'package.json'));
    expect(pkg.scripts).toMatchObject({ dev: 'vite', build: 'vite build' });
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })).toEqual(
      expect.arrayContaining(['react', 'react-dom', 'vite', '@vitejs/plugin-react']),
    );
    expect(read(appId, 'index.html')).toContain('src="/src/main.jsx"');
    expect(read(appId, 'src/main.jsx')).toContain("createRoot(document.getElementById('root'))");
    expect(read(appId, 'vite.config.js')).toContain('plugins: [react()]');
    expect(git(appId, 'config', 'user.name')).toBe('Alice Owner');
    expect(git(appId, 'log', '-1', '--format=%an <%ae>|%s')).toBe('Alice Owner <alice@example.com>|Initial commit');
    expect(git(appId, 'status', '--porcelain')).toBe('');
    expect(JSON.parse(readFileSync(join(workspaces, appId, '.git/overskill/app.json'), 'utf8'))).toMatchObject({ appId, source: 'template:vite-react' });

    const staticApp = await newApp('static-web');
    expect(read(staticApp, 'index.html')).toContain('<h1>New app</h1>');
    expect(git(staticApp, 'config', 'user.name')).toBe('overskill agent');

    await expect(rpc.send(Rpc.gitRepoInit, { appId, template: 'empty' })).rejects.toMatchObject({ code: 'GIT_REPO_EXISTS' });
    await expect(rpc.send(Rpc.gitRepoInit, { appId: randomUUID(), template: 'rails' })).rejects.toMatchObject({
      code: 'GIT_TEMPLATE_UNKNOWN',
      message: expect.stringContaining('vite-react'),
    });
    await expect(rpc.send(Rpc.gitRepoInit, { appId: randomUUID(), authorName: 'Eve <x>', authorEmail: 'e@x' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  }, 30_000);

  it("answers each template's files as its first commit holds them and the worktree list lists them", async () => {
    for (const template of ['empty', 'static-web', 'vite-react']) {
      const appId = randomUUID();
      const init = await rpc.send(Rpc.gitRepoInit, { appId, template });
      const committed = git(appId, 'ls-tree', '-r', '--name-only', '-z', 'HEAD').split('\0').filter(Boolean).sort();
      expect(init.files).toEqual(committed);
      expect((await rpc.send(Rpc.gitWorktreeList, { appId })).paths).toEqual(init.files);
      expect(init.files.length).toBeGreaterThan(0);
    }
  });

  it('lists the files of a version with their sizes, nested paths and odd names included, and caps the answer', async () => {
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId, template: 'empty' });
    write(appId, 'src/components/Button.tsx', 'export {};\n');
    write(appId, 'with space.txt', 'x');
    write(appId, 'zz/ünïcode.md', 'é');
    const v1 = await commit(appId, 'Files');
    write(appId, 'later.txt', 'later');
    await commit(appId, 'Later');

    const tree = await rpc.send(Rpc.gitTreeList, { appId, revision: v1.sha });
    expect(tree.commitSha).toBe(v1.sha);
    expect(tree.truncated).toBe(false);
    const byPath = Object.fromEntries(tree.entries.map((e) => [e.path, Number(e.sizeBytes)]));
    expect(byPath).toMatchObject({ 'src/components/Button.tsx': 11, 'with space.txt': 1, 'zz/ünïcode.md': 2 });
    expect(byPath['later.txt']).toBeUndefined();
    expect(Object.keys(byPath)).toEqual([...Object.keys(byPath)].sort());

    const head = await rpc.send(Rpc.gitTreeList, { appId, limit: 2 });
    expect(head.entries).toHaveLength(2);
    expect(head.truncated).toBe(true);
    await expect(rpc.send(Rpc.gitTreeList, { appId, revision: 'deadbeef' })).rejects.toMatchObject({ code: 'GIT_REVISION_NOT_FOUND' });
    await expect(rpc.send(Rpc.gitTreeList, { appId: randomUUID() })).rejects.toMatchObject({ code: 'GIT_REPO_NOT_FOUND' });
  });

  it('reports status, commits as the acting user, and pages through history per path', async () => {
    const appId = await newApp();
    write(appId, 'README.md', '# Changed\n');
    write(appId, 'src/new.txt', 'new\n');
    const status = await rpc.send(Rpc.gitRepoStatus, { appId });
    expect(status).toMatchObject({ branch: 'main', detached: false, clean: false });
    expect(status.files.map((f) => [f.path, f.change])).toEqual([
      ['README.md', gitV1.FileChange.MODIFIED],
      ['src/new.txt', gitV1.FileChange.UNTRACKED],
    ]);

    const first = await commit(appId, 'Add a new file');
    expect(first).toMatchObject({ created: true, filesChanged: 2 });
    expect(git(appId, 'log', '-1', '--format=%H|%an <%ae>|%cn|%s')).toBe(`${first.sha}|Bob Builder <bob@example.com>|overskill agent|Add a new file`);
    expect((await rpc.send(Rpc.gitRepoStatus, { appId })).clean).toBe(true);
    // Nothing to commit: HEAD unchanged, no empty commit.
    expect(await commit(appId, 'Nothing')).toMatchObject({ sha: first.sha, created: false, filesChanged: 0 });
    // The same HEAD from the files alone: a loose ref, then a packed one, then detached.
    expect(await rpc.send(Rpc.gitRepoHead, { appId })).toMatchObject({ headSha: first.sha, branch: 'main', detached: false });
    git(appId, 'pack-refs', '--all');
    expect(await commit(appId, 'Nothing again')).toMatchObject({ sha: first.sha, created: false });
    expect(await rpc.send(Rpc.gitRepoHead, { appId })).toMatchObject({ headSha: first.sha, branch: 'main', detached: false });
    git(appId, 'checkout', '-q', '--detach', 'HEAD~1');
    const detached = await rpc.send(Rpc.gitRepoHead, { appId });
    expect(detached).toMatchObject({ headSha: git(appId, 'rev-parse', 'HEAD'), branch: '', detached: true });
    expect(await rpc.send(Rpc.gitRepoStatus, { appId })).toMatchObject({ headSha: detached.headSha, branch: '', detached: true });
    git(appId, 'checkout', '-q', 'main');
    await expect(rpc.send(Rpc.gitRepoHead, { appId: randomUUID() })).rejects.toMatchObject({ code: 'GIT_REPO_NOT_FOUND' });
    // The agent when no author is given.
    write(appId, 'agent.txt', 'a\n');
    await rpc.send(Rpc.gitRepoCommit, { appId, message: 'Agent turn' });
    expect(git(appId, 'log', '-1', '--format=%an')).toBe('overskill agent');

    for (let i = 1; i <= 4; i++) {
      write(appId, i % 2 ? 'src/odd.txt' : 'even.txt', `${i}\n`);
      await commit(appId, `Change ${i}`);
    }
    const page1 = await rpc.send(Rpc.gitRepoLog, { appId, limit: 3 });
    expect(page1.commits.map((c) => c.message)).toEqual(['Change 4', 'Change 3', 'Change 2']);
    expect(page1.commits[0]).toMatchObject({
      authorName: 'Bob Builder',
      authorEmail: 'bob@example.com',
      parentShas: [page1.commits[1]!.sha],
      committedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // A commit arriving between pages does not shift the next page.
    write(appId, 'late.txt', 'late\n');
    await commit(appId, 'Late commit');
    const page2 = await rpc.send(Rpc.gitRepoLog, { appId, limit: 3, pageToken: page1.nextPageToken });
    expect(page2.commits.map((c) => c.message)).toEqual(['Change 1', 'Agent turn', 'Add a new file']);
    const page3 = await rpc.send(Rpc.gitRepoLog, { appId, limit: 3, pageToken: page2.nextPageToken });
    expect(page3.commits.map((c) => c.message)).toEqual(['Initial commit']);
    expect(page3.nextPageToken).toBe('');

    const perPath = await rpc.send(Rpc.gitRepoLog, { appId, path: 'src' });
    expect(perPath.commits.map((c) => c.message)).toEqual(['Change 3', 'Change 1', 'Add a new file']);
    const fromRevision = await rpc.send(Rpc.gitRepoLog, { appId, revision: 'HEAD~2', limit: 1 });
    expect(fromRevision.commits[0]!.message).toBe('Change 3');
    await expect(rpc.send(Rpc.gitRepoLog, { appId, pageToken: 'not-a-token' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  }, 30_000);

  it('diffs the working tree (new files too), two versions, one file, with stats and patches, and shows a file at a version', async () => {
    const appId = await newApp();
    write(appId, 'a.txt', 'one\ntwo\nthree\n');
    write(appId, 'logo.bin', Buffer.from([0, 1, 2, 3, 0, 255]));
    const v1 = await commit(appId, 'v1');
    write(appId, 'a.txt', 'one\nTWO\nthree\nfour\n');
    write(appId, 'fresh.txt', 'brand new\n');
    git(appId, 'mv', 'logo.bin', 'brand.bin');

    const work = await rpc.send(Rpc.gitRepoDiff, { appId, includePatch: true });
    expect(work.toSha).toBe('');
    expect(work.fromSha).toBe(v1.sha);
    const byPath = Object.fromEntries(work.files.map((f) => [f.path, f]));
    expect(byPath['a.txt']).toMatchObject({ change: gitV1.FileChange.MODIFIED, additions: 2, deletions: 1 });
    expect(byPath['a.txt']!.patch).toContain('-two\n+TWO\n');
    expect(byPath['fresh.txt']).toMatchObject({ change: gitV1.FileChange.ADDED, additions: 1 });
    expect(byPath['brand.bin']).toMatchObject({ change: gitV1.FileChange.RENAMED, oldPath: 'logo.bin' });
    expect(work).toMatchObject({ filesChanged: 3, additions: 3, deletions: 1 });
    // A working-tree diff is a read: the real index is untouched (fresh.txt is still untracked).
    expect(git(appId, 'status', '--porcelain')).toContain('?? fresh.txt');
    // From the empty tree: the working tree's files in one call (renamed, new and untracked
    // included, the old name gone), what the agent's context lists.
    rmSync(join(workspaces, appId, 'a.txt'));
    const committed = git(appId, 'ls-tree', '-r', '--name-only', v1.sha).split('\n');
    const all = await rpc.send(Rpc.gitRepoDiff, { appId, fromEmptyTree: true });
    expect(all.files.map((f) => f.path).sort()).toEqual([...committed.filter((p) => p !== 'a.txt' && p !== 'logo.bin'), 'brand.bin', 'fresh.txt'].sort());
    expect(all.files.every((f) => f.change === gitV1.FileChange.ADDED)).toBe(true);
    await expect(rpc.send(Rpc.gitRepoDiff, { appId, fromEmptyTree: true, fromRevision: v1.sha })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    write(appId, 'a.txt', 'one\nTWO\nthree\nfour\n');

    const v2 = await commit(appId, 'v2');
    const between = await rpc.send(Rpc.gitRepoDiff, { appId, fromRevision: v1.sha, toRevision: v2.sha });
    expect(between.files.map((f) => f.path).sort()).toEqual(['a.txt', 'brand.bin', 'fresh.txt']);
    expect(between.files.every((f) => f.patch === '')).toBe(true);
    // Only `to`: the change that version made.
    expect((await rpc.send(Rpc.gitRepoDiff, { appId, toRevision: v2.sha })).files).toHaveLength(3);
    const oneFile = await rpc.send(Rpc.gitRepoDiff, { appId, fromRevision: v1.sha, toRevision: 'HEAD', path: 'a.txt', includePatch: true });
    expect(oneFile.files.map((f) => f.path)).toEqual(['a.txt']);
    expect(oneFile.files[0]!.patch).toMatch(/^diff --git a\/a.txt b\/a.txt/);

    const old = await rpc.send(Rpc.gitFileShow, { appId, revision: v1.sha, path: 'a.txt' });
    expect(Buffer.from(old.content).toString('utf8')).toBe('one\ntwo\nthree\n');
    expect(old).toMatchObject({ commitSha: v1.sha, binary: false, sizeBytes: 14n });
    const bin = await rpc.send(Rpc.gitFileShow, { appId, path: 'brand.bin' });
    expect(Buffer.from(bin.content)).toEqual(Buffer.from([0, 1, 2, 3, 0, 255]));
    expect(bin.binary).toBe(true);
    await expect(rpc.send(Rpc.gitFileShow, { appId, revision: v1.sha, path: 'fresh.txt' })).rejects.toMatchObject({ code: 'GIT_PATH_NOT_FOUND' });
    await expect(rpc.send(Rpc.gitFileShow, { appId, path: 'src' })).rejects.toMatchObject({ code: 'GIT_PATH_NOT_FOUND' });
  }, 30_000);

  it("lists the working tree's files as the next commit would hold them, the same set as a diff from the empty tree", async () => {
    const appId = await newApp();
    write(appId, '.gitignore', '*.log\nbuild/\n');
    write(appId, 'kept.txt', 'kept\n');
    write(appId, 'gone.txt', 'gone\n');
    write(appId, 'unstaged-gone.txt', 'x\n');
    write(appId, 'old name.txt', 'renamed\n');
    write(appId, 'forced.log', 'tracked although ignored\n');
    git(appId, 'add', '-A');
    git(appId, 'add', '-f', 'forced.log');
    await commit(appId, 'Base');
    git(appId, 'rm', '-q', 'gone.txt');
    rmSync(join(workspaces, appId, 'unstaged-gone.txt'));
    write(appId, 'src/deep/new.ts', 'export {};\n');
    git(appId, 'mv', 'old name.txt', 'src/новое имя.txt');
    git(appId, 'rm', '-q', '--cached', 'kept.txt');
    write(appId, 'debug.log', 'ignored\n');
    write(appId, 'build/out.js', 'ignored\n');
    write(appId, 'staged.txt', 'staged\n');
    git(appId, 'add', 'staged.txt');
    write(appId, 'staged.txt', 'changed again\n');

    const listed = await rpc.send(Rpc.gitWorktreeList, { appId });
    const fromEmptyTree = await rpc.send(Rpc.gitRepoDiff, { appId, fromEmptyTree: true });
    expect(listed).toMatchObject({ truncated: false });
    expect(listed.paths).toEqual(['.gitignore', 'README.md', 'forced.log', 'kept.txt', 'src/deep/new.ts', 'src/новое имя.txt', 'staged.txt']);
    expect(listed.paths).toEqual(fromEmptyTree.files.map((f) => f.path).sort());
    // A read: the index still holds what it held.
    expect(git(appId, '-c', 'core.quotePath=false', 'diff', '--cached', '--no-renames', '--name-only', 'HEAD').split('\n').sort()).toEqual([
      'gone.txt',
      'kept.txt',
      'old name.txt',
      'src/новое имя.txt',
      'staged.txt',
    ]);

    expect(await rpc.send(Rpc.gitWorktreeList, { appId, limit: 2 })).toEqual(expect.objectContaining({ paths: ['.gitignore', 'README.md'], truncated: true }));
    await expect(rpc.send(Rpc.gitWorktreeList, { appId: randomUUID() })).rejects.toMatchObject({ code: 'GIT_REPO_NOT_FOUND' });
  }, 30_000);

  it('creates, lists, switches and deletes branches, guarding the current one and unmerged work', async () => {
    const appId = await newApp();
    const created = await rpc.send(Rpc.gitBranchCreate, { appId, name: 'feature/login', switchTo: true });
    expect(created.branch).toMatchObject({ name: 'feature/login', current: true, subject: 'Initial commit' });
    write(appId, 'login.html', '<form></form>\n');
    const onFeature = await commit(appId, 'Login page');
    expect(git(appId, 'rev-parse', 'feature/login')).toBe(onFeature.sha);
    expect(git(appId, 'rev-parse', 'main')).not.toBe(onFeature.sha);

    expect(await rpc.send(Rpc.gitRepoHead, { appId })).toMatchObject({ headSha: onFeature.sha, branch: 'feature/login', detached: false });

    const list = await rpc.send(Rpc.gitBranchList, { appId });
    expect(list.current).toBe('feature/login');
    expect(list.branches.map((b) => [b.name, b.current])).toEqual([
      ['feature/login', true],
      ['main', false],
    ]);
    await expect(rpc.send(Rpc.gitBranchCreate, { appId, name: 'main' })).rejects.toMatchObject({ code: 'GIT_BRANCH_EXISTS' });
    await expect(rpc.send(Rpc.gitBranchDelete, { appId, name: 'feature/login' })).rejects.toMatchObject({ code: 'GIT_BRANCH_CURRENT' });

    // Uncommitted changes would silently move to the other branch: refused.
    write(appId, 'login.html', '<form>changed</form>\n');
    await expect(rpc.send(Rpc.gitBranchSwitch, { appId, name: 'main' })).rejects.toMatchObject({ code: 'GIT_WORKTREE_DIRTY' });
    await expect(rpc.send(Rpc.gitBranchCreate, { appId, name: 'other', switchTo: true })).rejects.toMatchObject({ code: 'GIT_WORKTREE_DIRTY' });
    expect(git(appId, 'branch', '--list', 'other')).toBe('');
    git(appId, 'checkout', '--', 'login.html');

    const switched = await rpc.send(Rpc.gitBranchSwitch, { appId, name: 'main' });
    expect(switched).toMatchObject({ previous: 'feature/login', branch: { name: 'main', current: true } });
    expect(existsSync(join(workspaces, appId, 'login.html'))).toBe(false);
    await expect(rpc.send(Rpc.gitBranchSwitch, { appId, name: 'nope' })).rejects.toMatchObject({ code: 'GIT_BRANCH_NOT_FOUND' });

    // Its commit is on no other branch: refused without force; with force, kept in an archive ref.
    await expect(rpc.send(Rpc.gitBranchDelete, { appId, name: 'feature/login' })).rejects.toMatchObject({ code: 'GIT_BRANCH_NOT_MERGED' });
    const deleted = await rpc.send(Rpc.gitBranchDelete, { appId, name: 'feature/login', force: true });
    expect(deleted).toMatchObject({ sha: onFeature.sha, archivedRef: expect.stringMatching(/^refs\/overskill\/deleted-branches\/feature\/login\/\d+$/) });
    expect(git(appId, 'rev-parse', deleted.archivedRef)).toBe(onFeature.sha);
    expect((await rpc.send(Rpc.gitBranchList, { appId })).branches.map((b) => b.name)).toEqual(['main']);
    // A merged branch goes without force and without an archive.
    await rpc.send(Rpc.gitBranchCreate, { appId, name: 'merged' });
    expect(await rpc.send(Rpc.gitBranchDelete, { appId, name: 'merged' })).toMatchObject({ archivedRef: '' });
  }, 30_000);

  it('restores a version as a new commit: history kept, idempotent, outside commits respected, uncommitted work never lost', async () => {
    const appId = await newApp();
    write(appId, 'page.html', 'v1\n');
    const v1 = await commit(appId, 'Version 1');
    write(appId, 'page.html', 'v2\n');
    write(appId, 'extra.txt', 'added in v2\n');
    const v2 = await commit(appId, 'Version 2');

    const restored = await rpc.send(Rpc.gitRepoRestore, { appId, revision: v1.sha, authorName: 'Carol', authorEmail: 'carol@example.com' });
    expect(restored).toMatchObject({ created: true, restoredFrom: v1.sha, filesChanged: 2, savedPendingSha: '' });
    expect(git(appId, 'rev-parse', `${restored.sha}^{tree}`)).toBe(git(appId, 'rev-parse', `${v1.sha}^{tree}`));
    expect(git(appId, 'rev-parse', `${restored.sha}^`)).toBe(v2.sha);
    expect(read(appId, 'page.html')).toBe('v1\n');
    expect(existsSync(join(workspaces, appId, 'extra.txt'))).toBe(false);
    expect(git(appId, 'status', '--porcelain')).toBe('');
    const log = await rpc.send(Rpc.gitRepoLog, { appId, limit: 4 });
    expect(log.commits.map((c) => c.message)).toEqual([`Restore version ${v1.sha.slice(0, 7)}: Version 1`, 'Version 2', 'Version 1', 'Initial commit']);
    expect(log.commits[0]).toMatchObject({ restoredFrom: v1.sha, authorName: 'Carol' });

    // Twice: nothing new.
    expect(await rpc.send(Rpc.gitRepoRestore, { appId, revision: v1.sha })).toMatchObject({ sha: restored.sha, created: false });

    // A commit made outside overskill stays in history; restoring builds on top of it.
    write(appId, 'manual.txt', 'by hand\n');
    git(appId, 'add', '-A');
    git(appId, 'commit', '-q', '-m', 'Manual commit');
    const manual = git(appId, 'rev-parse', 'HEAD');
    await expect(rpc.send(Rpc.gitRepoRestore, { appId, revision: v2.sha, expectedHeadSha: restored.sha })).rejects.toMatchObject({ code: 'GIT_HEAD_MOVED' });
    expect(git(appId, 'rev-parse', 'HEAD')).toBe(manual);
    const toV2 = await rpc.send(Rpc.gitRepoRestore, { appId, revision: 'HEAD~2', expectedHeadSha: manual });
    expect(git(appId, 'rev-parse', `${toV2.sha}^`)).toBe(manual);
    expect(read(appId, 'page.html')).toBe('v2\n');
    expect(existsSync(join(workspaces, appId, 'manual.txt'))).toBe(false);
    expect(git(appId, 'cat-file', '-p', `${manual}:manual.txt`)).toBe('by hand');

    // Uncommitted changes: refused with a code and left alone, or saved as a commit first.
    write(appId, 'page.html', 'unsaved work\n');
    await expect(rpc.send(Rpc.gitRepoRestore, { appId, revision: v1.sha })).rejects.toMatchObject({
      code: 'GIT_WORKTREE_DIRTY',
      message: expect.stringContaining('page.html'),
    });
    expect(read(appId, 'page.html')).toBe('unsaved work\n');
    const saving = await rpc.send(Rpc.gitRepoRestore, { appId, revision: v1.sha, savePendingChanges: true });
    expect(saving.savedPendingSha).toMatch(/^[0-9a-f]{40}$/);
    expect(git(appId, 'cat-file', '-p', `${saving.savedPendingSha}:page.html`)).toBe('unsaved work');
    expect(read(appId, 'page.html')).toBe('v1\n');
    expect(git(appId, 'rev-parse', `${saving.sha}^`)).toBe(saving.savedPendingSha);
  }, 30_000);

  it('bookmarks versions by name and compares any two versions', async () => {
    const appId = await newApp();
    write(appId, 'a.txt', '1\n');
    const v1 = await commit(appId, 'One');
    const mark = await rpc.send(Rpc.gitBookmarkCreate, {
      appId,
      name: 'before-redesign',
      note: 'Last version the client approved',
      authorName: 'Dana',
      authorEmail: 'dana@example.com',
    });
    expect(mark).toMatchObject({
      created: true,
      bookmark: {
        name: 'before-redesign',
        sha: v1.sha,
        note: 'Last version the client approved',
        revision: 'bookmark/before-redesign',
        createdBy: 'Dana <dana@example.com>',
      },
    });
    expect(git(appId, 'rev-parse', 'bookmark/before-redesign^{commit}')).toBe(v1.sha);
    expect(await rpc.send(Rpc.gitBookmarkCreate, { appId, name: 'before-redesign', revision: v1.sha })).toMatchObject({ created: false });

    write(appId, 'a.txt', '1\n2\n');
    write(appId, 'b.txt', 'b\n');
    await commit(appId, 'Two');
    write(appId, 'b.txt', 'b\nb\n');
    const v3 = await commit(appId, 'Three');
    await expect(rpc.send(Rpc.gitBookmarkCreate, { appId, name: 'before-redesign' })).rejects.toMatchObject({ code: 'GIT_BOOKMARK_EXISTS' });
    await rpc.send(Rpc.gitBookmarkCreate, { appId, name: 'release/1.0' });
    expect((await rpc.send(Rpc.gitBookmarkList, { appId })).bookmarks.map((b) => [b.name, b.sha]).sort()).toEqual([
      ['before-redesign', v1.sha],
      ['release/1.0', v3.sha],
    ]);

    // A bookmark works as a revision anywhere.
    const compared = await rpc.send(Rpc.gitRepoCompare, { appId, baseRevision: 'bookmark/before-redesign', headRevision: 'bookmark/release/1.0' });
    expect(compared).toMatchObject({
      baseSha: v1.sha,
      headSha: v3.sha,
      mergeBaseSha: v1.sha,
      ahead: 2,
      behind: 0,
      filesChanged: 2,
      additions: 3,
      deletions: 0,
      identicalTrees: false,
    });
    expect(compared.commits.map((c) => c.message)).toEqual(['Three', 'Two']);
    const reverse = await rpc.send(Rpc.gitRepoCompare, { appId, baseRevision: v3.sha, headRevision: v1.sha });
    expect(reverse).toMatchObject({ ahead: 0, behind: 2, deletions: 3 });
    const restored = await rpc.send(Rpc.gitRepoRestore, { appId, revision: 'bookmark/before-redesign' });
    expect((await rpc.send(Rpc.gitRepoCompare, { appId, baseRevision: v1.sha, headRevision: restored.sha })).identicalTrees).toBe(true);

    expect(await rpc.send(Rpc.gitBookmarkDelete, { appId, name: 'before-redesign' })).toEqual(expect.objectContaining({ sha: v1.sha }));
    expect(git(appId, 'cat-file', '-t', v1.sha)).toBe('commit');
    await expect(rpc.send(Rpc.gitBookmarkDelete, { appId, name: 'before-redesign' })).rejects.toMatchObject({ code: 'GIT_BOOKMARK_NOT_FOUND' });
  }, 30_000);

  it('counts and times every operation by outcome on /metrics', async () => {
    await expect(rpc.send(Rpc.gitRepoStatus, { appId: randomUUID() })).rejects.toMatchObject({ code: 'GIT_REPO_NOT_FOUND' });
    const text = await (await fetch(`${platform.urls['git-service']}/metrics`)).text();
    expect(text).toMatch(/git_operations_total\{[^}]*operation="commit",outcome="ok"[^}]*\} [1-9]/);
    expect(text).toMatch(/git_operations_total\{[^}]*operation="status",outcome="GIT_REPO_NOT_FOUND"[^}]*\} [1-9]/);
    expect(text).toMatch(/git_operation_duration_seconds_bucket\{[^}]*operation="restore",outcome="ok"/);
  }, 30_000);
});

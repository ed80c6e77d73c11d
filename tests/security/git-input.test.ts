import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Bad input gets a code a caller can act on, and leaves the repository exactly as it was.
describe('git-service: bad input is refused with a clear code and changes nothing', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let dir: string;
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let appId: string;

  beforeAll(async () => {
    dir = scratchDir(stack.dataDir, 'git-input');
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
    nc = await connectNats(stack.natsUrl, 'git-input-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-input-test'), 10_000);
    appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId, template: 'static-web' });
    // A symlink committed in the repository that points outside it.
    symlinkSync('/etc/hostname', join(workspaces, appId, 'escape'));
    writeFileSync(join(workspaces, appId, 'pending.txt'), 'uncommitted\n');
    await rpc.send(Rpc.gitBranchCreate, { appId, name: 'feature' });
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  const git = (...args: string[]) => spawnSync('git', args, { cwd: join(workspaces, appId), encoding: 'utf8' }).stdout;
  // Everything a user could notice: refs, HEAD, index and working tree, and the volume's folders.
  const snapshot = () => ({
    refs: git('for-each-ref', '--format=%(refname) %(objectname)'),
    head: git('symbolic-ref', 'HEAD'),
    status: git('status', '--porcelain=v2', '--untracked-files=all'),
    volume: readdirSync(workspaces).sort(),
    stray: ['/tmp/overskill-pwned', join(dir, 'pwned')].filter((p) => existsSync(p)),
  });

  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['commit to an unknown app', () => rpc.send(Rpc.gitRepoCommit, { appId: randomUUID(), message: 'x' }), 'GIT_REPO_NOT_FOUND'],
    ['an app id that is a path', () => rpc.send(Rpc.gitRepoInit, { appId: '../../tmp/overskill-pwned', template: 'empty' }), 'GIT_REPO_NOT_FOUND'],
    ['log of an unknown app', () => rpc.send(Rpc.gitRepoLog, { appId: randomUUID() }), 'GIT_REPO_NOT_FOUND'],
    ['restore an unknown revision', () => rpc.send(Rpc.gitRepoRestore, { appId, revision: 'deadbeefdeadbeef' }), 'GIT_REVISION_NOT_FOUND'],
    ['restore a branch that does not exist', () => rpc.send(Rpc.gitRepoRestore, { appId, revision: 'no-such-branch' }), 'GIT_REVISION_NOT_FOUND'],
    ['a revision that is an option', () => rpc.send(Rpc.gitRepoDiff, { appId, fromRevision: `--output=${join(dir, 'pwned')}` }), 'GIT_REVISION_NOT_FOUND'],
    ['a revision range', () => rpc.send(Rpc.gitRepoLog, { appId, revision: 'HEAD~1..HEAD' }), 'GIT_REVISION_NOT_FOUND'],
    ['a revision naming a file, not a commit', () => rpc.send(Rpc.gitRepoCompare, { appId, baseRevision: 'HEAD:index.html' }), 'GIT_REVISION_NOT_FOUND'],
    ['bookmark an unknown revision', () => rpc.send(Rpc.gitBookmarkCreate, { appId, name: 'ok', revision: 'nope' }), 'GIT_REVISION_NOT_FOUND'],
    ['branch from an unknown revision', () => rpc.send(Rpc.gitBranchCreate, { appId, name: 'ok', fromRevision: 'nope' }), 'GIT_REVISION_NOT_FOUND'],
    ['a branch name with ..', () => rpc.send(Rpc.gitBranchCreate, { appId, name: 'a..b' }), 'GIT_BRANCH_NAME_INVALID'],
    ['a branch name with a control character', () => rpc.send(Rpc.gitBranchCreate, { appId, name: 'bell\x07' }), 'GIT_BRANCH_NAME_INVALID'],
    ['a branch name with a newline', () => rpc.send(Rpc.gitBranchSwitch, { appId, name: 'main\nfeature' }), 'GIT_BRANCH_NAME_INVALID'],
    ['a branch name that is an option', () => rpc.send(Rpc.gitBranchDelete, { appId, name: '-D' }), 'GIT_BRANCH_NAME_INVALID'],
    ['a branch name ending in .lock', () => rpc.send(Rpc.gitBranchCreate, { appId, name: 'x.lock' }), 'GIT_BRANCH_NAME_INVALID'],
    ['a bookmark name with ..', () => rpc.send(Rpc.gitBookmarkCreate, { appId, name: '../../heads/main' }), 'GIT_BOOKMARK_NAME_INVALID'],
    ['show a path outside the repository', () => rpc.send(Rpc.gitFileShow, { appId, path: '../../../etc/passwd' }), 'GIT_PATH_OUTSIDE_REPO'],
    ['show an absolute path', () => rpc.send(Rpc.gitFileShow, { appId, path: '/etc/passwd' }), 'GIT_PATH_OUTSIDE_REPO'],
    ['show inside .git', () => rpc.send(Rpc.gitFileShow, { appId, path: '.git/config' }), 'GIT_PATH_OUTSIDE_REPO'],
    ['diff a path outside the repository', () => rpc.send(Rpc.gitRepoDiff, { appId, path: 'a/../../x' }), 'GIT_PATH_OUTSIDE_REPO'],
    ['log a path outside the repository', () => rpc.send(Rpc.gitRepoLog, { appId, path: '..' }), 'GIT_PATH_OUTSIDE_REPO'],
    ['delete a branch that does not exist', () => rpc.send(Rpc.gitBranchDelete, { appId, name: 'ghost' }), 'GIT_BRANCH_NOT_FOUND'],
    ['delete the current branch', () => rpc.send(Rpc.gitBranchDelete, { appId, name: 'main' }), 'GIT_BRANCH_CURRENT'],
    ['restore over uncommitted work', () => rpc.send(Rpc.gitRepoRestore, { appId, revision: 'HEAD' }), 'GIT_WORKTREE_DIRTY'],
    [
      'an author that forges the header',
      () => rpc.send(Rpc.gitRepoCommit, { appId, message: 'x', authorName: 'Mal\nlory', authorEmail: 'm@x.test' }),
      'VALIDATION_FAILED',
    ],
    ['a remote URL with credentials', () => rpc.send(Rpc.gitRepoPush, { appId, url: 'https://user:secret@github.com/o/r.git' }), 'GIT_REMOTE_URL_INVALID'],
    ['a remote with the ext:: transport', () => rpc.send(Rpc.gitRepoPush, { appId, url: 'ext::sh -c touch% /tmp/overskill-pwned' }), 'GIT_REMOTE_URL_INVALID'],
    ['a file:// remote', () => rpc.send(Rpc.gitRepoClone, { appId: randomUUID(), url: `file://${join(workspaces, appId)}` }), 'GIT_REMOTE_URL_INVALID'],
    [
      'a remote host that is not allowed',
      () => rpc.send(Rpc.gitRepoClone, { appId: randomUUID(), url: 'https://169.254.169.254/latest.git' }),
      'GIT_REMOTE_URL_INVALID',
    ],
  ];

  it.each(cases)(
    '%s',
    async (_what, call, code) => {
      const before = snapshot();
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code });
      expect((err as Error).message.length).toBeGreaterThan(10);
      expect(snapshot()).toEqual(before);
    },
    15_000,
  );

  it('shows a committed symlink as its target text, never the file it points to', async () => {
    await rpc.send(Rpc.gitRepoCommit, { appId, message: 'Add the link and the pending file' });
    const shown = await rpc.send(Rpc.gitFileShow, { appId, path: 'escape' });
    expect(Buffer.from(shown.content).toString('utf8')).toBe('/etc/hostname');
  }, 15_000);
});

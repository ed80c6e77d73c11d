import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { freePort, GitHttpFake, launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Clone and push against a local GitHub stand-in (git http-backend behind Basic auth), so the
// real token path runs: the token must reach the remote and nowhere else.
describe('git-service: clone and push with a token that never leaks', () => {
  const stack = integrationStack();
  const TOKEN = `ghs_${randomUUID().replace(/-/g, '')}`;
  const SERVICE_TOKEN = `ghp_${randomUUID().replace(/-/g, '')}`;
  const remote = new GitHttpFake({ token: TOKEN });
  const serviceRemote = new GitHttpFake({ token: SERVICE_TOKEN });
  let platform: RunningPlatform;
  let dir: string;
  let workspaces: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    dir = scratchDir(stack.dataDir, 'git-token');
    workspaces = join(dir, 'workspaces');
    await remote.start();
    await serviceRemote.start();
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['git-service'],
      // The most verbose logs: if anything logged a request or a git command, it would show here.
      env: {
        LOG_LEVEL: 'trace',
        GIT_REMOTE_ALLOWED_HOSTS: '127.0.0.1',
        GIT_REMOTE_ALLOW_HTTP: 'true',
        GITHUB_TOKEN: SERVICE_TOKEN,
        GIT_REMOTE_TIMEOUT_MS: '10000',
      },
    });
    nc = await connectNats(stack.natsUrl, 'git-token-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('git-token-test'), 15_000);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await remote.stop();
    await serviceRemote.stop();
  });

  const git = (appId: string, ...args: string[]) => spawnSync('git', args, { cwd: join(workspaces, appId), encoding: 'utf8' }).stdout.trim();
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
  const forms = (token: string) => [token, Buffer.from(`x-access-token:${token}`).toString('base64'), Buffer.from(token).toString('base64')];

  it('clones with the token in an auth header only: not in the URL, the config or the remote it stores', async () => {
    const url = remote.createRepo('shop', { 'index.html': '<h1>Shop</h1>\n', 'src/app.js': 'console.log(1);\n' });
    const appId = randomUUID();
    const cloned = await rpc.send(Rpc.gitRepoClone, { appId, url, token: TOKEN });
    expect(cloned).toMatchObject({ headSha: remote.log('shop', 'main', '%H')[0], branch: 'main' });
    expect(readFileSync(join(workspaces, appId, 'src/app.js'), 'utf8')).toBe('console.log(1);\n');
    expect(git(appId, 'remote', 'get-url', 'origin')).toBe(url);
    const config = readFileSync(join(workspaces, appId, '.git/config'), 'utf8');
    for (const form of forms(TOKEN)) expect(config).not.toContain(form);
    expect(config).not.toMatch(/extraheader|credential/i);
    expect(JSON.parse(readFileSync(join(workspaces, appId, '.git/overskill/app.json'), 'utf8'))).toMatchObject({ appId, source: `clone:${url}` });
    // The remote saw the real header on every request, and never a token in a URL.
    const seen = remote.requests.filter((r) => r.authorized);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((r) => r.authorization))).toEqual(new Set([`Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`]));
    for (const r of remote.requests) expect(r.url).not.toContain(TOKEN);
    // The repository can be worked on right away (identity set).
    writeFileSync(join(workspaces, appId, 'new.txt'), 'x\n');
    expect(await rpc.send(Rpc.gitRepoCommit, { appId, message: 'After clone' })).toMatchObject({ created: true });
  }, 30_000);

  it('refuses a wrong token with GIT_REMOTE_AUTH_FAILED, echoing no token and leaving no folder behind', async () => {
    const url = remote.createRepo('private', { 'a.txt': 'a\n' });
    const appId = randomUUID();
    const wrong = `ghs_wrong${randomUUID().replace(/-/g, '')}`;
    const err = await failure(rpc.send(Rpc.gitRepoClone, { appId, url, token: wrong }));
    expect(err).toMatchObject({ code: 'GIT_REMOTE_AUTH_FAILED' });
    for (const form of [...forms(wrong), ...forms(TOKEN)]) expect(err!.message).not.toContain(form);
    expect(existsSync(join(workspaces, appId))).toBe(false);
    expect(readdirSync(workspaces).filter((name) => name.startsWith('.overskill-tmp-'))).toEqual([]);
  }, 30_000);

  it('falls back to the service’s GITHUB_TOKEN when the request carries none', async () => {
    const url = serviceRemote.createRepo('automation', { 'README.md': '# Task repo\n' });
    const appId = randomUUID();
    expect(await rpc.send(Rpc.gitRepoClone, { appId, url })).toMatchObject({ branch: 'main' });
    // A request's own token wins over the service's.
    await expect(rpc.send(Rpc.gitRepoClone, { appId: randomUUID(), url, token: TOKEN })).rejects.toMatchObject({ code: 'GIT_REMOTE_AUTH_FAILED' });
  }, 30_000);

  it('pushes a branch, reports up to date the second time, and never overwrites commits made on the remote', async () => {
    const url = remote.createRepo('blog', { 'post.md': 'hello\n' });
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoClone, { appId, url, token: TOKEN });
    writeFileSync(join(workspaces, appId, 'post.md'), 'hello, edited by the agent\n');
    const local = await rpc.send(Rpc.gitRepoCommit, { appId, message: 'Agent edit' });
    const pushed = await rpc.send(Rpc.gitRepoPush, { appId, token: TOKEN });
    expect(pushed).toMatchObject({ branch: 'main', sha: local.sha, remoteUrl: url, upToDate: false });
    expect(remote.log('blog')).toEqual(['Agent edit', 'Initial commit']);
    expect(await rpc.send(Rpc.gitRepoPush, { appId, token: TOKEN })).toMatchObject({ upToDate: true });
    expect(await rpc.send(Rpc.gitRepoStatus, { appId })).toMatchObject({ upstream: 'origin/main', ahead: 0, behind: 0 });

    // A new branch to a named URL.
    await rpc.send(Rpc.gitBranchCreate, { appId, name: 'agent/fix-typo', switchTo: true });
    writeFileSync(join(workspaces, appId, 'post.md'), 'hello, typo fixed\n');
    await rpc.send(Rpc.gitRepoCommit, { appId, message: 'Fix typo' });
    expect(await rpc.send(Rpc.gitRepoPush, { appId, url, token: TOKEN, branch: 'agent/fix-typo' })).toMatchObject({ upToDate: false });
    expect(remote.refs('blog')).toContain('refs/heads/agent/fix-typo');

    // Someone pushes to main meanwhile: our push is rejected, theirs stays.
    remote.commitFiles('blog', { 'other.md': 'theirs\n' }, 'Pushed by a teammate');
    await rpc.send(Rpc.gitBranchSwitch, { appId, name: 'main' });
    writeFileSync(join(workspaces, appId, 'post.md'), 'ours\n');
    await rpc.send(Rpc.gitRepoCommit, { appId, message: 'Ours' });
    await expect(rpc.send(Rpc.gitRepoPush, { appId, token: TOKEN })).rejects.toMatchObject({ code: 'GIT_PUSH_REJECTED' });
    expect(remote.log('blog')).toEqual(['Pushed by a teammate', 'Agent edit', 'Initial commit']);

    const err = await failure(rpc.send(Rpc.gitRepoPush, { appId, token: 'ghs_not_the_right_one_0000' }));
    expect(err).toMatchObject({ code: 'GIT_REMOTE_AUTH_FAILED' });
    expect(err!.message).not.toContain('ghs_not_the_right_one_0000');
  }, 30_000);

  it('tells an unknown repository and an unreachable remote apart', async () => {
    await expect(rpc.send(Rpc.gitRepoClone, { appId: randomUUID(), url: remote.urlOf('missing'), token: TOKEN })).rejects.toMatchObject({
      code: 'GIT_REMOTE_NOT_FOUND',
    });
    const closedPort = await freePort();
    await expect(rpc.send(Rpc.gitRepoClone, { appId: randomUUID(), url: `http://127.0.0.1:${closedPort}/x.git`, token: TOKEN })).rejects.toMatchObject({
      code: 'GIT_REMOTE_UNAVAILABLE',
    });
    const appId = randomUUID();
    await rpc.send(Rpc.gitRepoInit, { appId });
    await expect(rpc.send(Rpc.gitRepoPush, { appId, token: TOKEN })).rejects.toMatchObject({ code: 'GIT_REMOTE_NOT_CONFIGURED' });
  }, 30_000);

  it('leaves no token anywhere on the volume or in the service’s log', async () => {
    const everything = spawnSync(
      'grep',
      ['-r', '-l', '-a', '-F', '-e', TOKEN, '-e', SERVICE_TOKEN, '-e', forms(TOKEN)[1]!, '-e', forms(SERVICE_TOKEN)[1]!, workspaces, join(dir, 'logs')],
      { encoding: 'utf8' },
    );
    expect(everything.stdout).toBe('');
    expect(readFileSync(join(dir, 'logs', 'git-service.log'), 'utf8').length).toBeGreaterThan(0);
  }, 30_000);
});

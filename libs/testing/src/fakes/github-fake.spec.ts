import { createAppAuth } from '@octokit/auth-app';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { Webhooks } from '@octokit/webhooks';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GitHttpFake } from './git-http-fake';
import { GitHubFake } from './github-fake';
import { closeServer, listenOnLoopback, readRequestBody } from './loopback-http-server';

const TOKEN = 'ghp_fake_token_for_tests';
const alice = { login: 'alice', id: 11, type: 'User' as const };

// Octokit itself, pointed at the fake: what the fake answers is what the real client accepts.
describe('GitHubFake', () => {
  let fake: GitHubFake;
  let git: GitHttpFake;
  let octokit: Octokit;

  beforeEach(async () => {
    fake = new GitHubFake();
    git = new GitHttpFake({ token: TOKEN });
    await Promise.all([fake.start(), git.start()]);
    git.createRepo('demo', { 'README.md': '# demo\n' });
    fake.addRepo('acme', 'demo', { refs: () => git.refs('demo') });
    fake.addToken(TOKEN, alice, { metadata: 'read', issues: 'write', pull_requests: 'write', contents: 'write' });
    octokit = new Octokit({ auth: TOKEN, baseUrl: fake.url, request: { retries: 0 } });
  });

  afterEach(async () => {
    await Promise.all([fake.stop(), git.stop()]);
  });

  it('serves issues, comments edited in place, labels and reactions with rate-limit headers', async () => {
    const n = fake.createIssue('acme/demo', { title: 'Add a footer', labels: ['overskill'], user: alice });
    const listed = await octokit.issues.listForRepo({ owner: 'acme', repo: 'demo', labels: 'overskill', state: 'open' });
    expect(listed.data.map((i) => i.number)).toEqual([n]);
    expect(Number(listed.headers['x-ratelimit-remaining'])).toBe(4999);

    const comment = await octokit.issues.createComment({ owner: 'acme', repo: 'demo', issue_number: n, body: 'Working on it' });
    await octokit.issues.updateComment({ owner: 'acme', repo: 'demo', comment_id: comment.data.id, body: 'Done' });
    await octokit.issues.addLabels({ owner: 'acme', repo: 'demo', issue_number: n, labels: ['processing'] });
    await octokit.issues.removeLabel({ owner: 'acme', repo: 'demo', issue_number: n, name: 'overskill' });
    await octokit.reactions.createForIssue({ owner: 'acme', repo: 'demo', issue_number: n, content: 'eyes' });

    expect(fake.issue('acme/demo', n).comments.map((c) => c.body)).toEqual(['Done']);
    expect(fake.issue('acme/demo', n).labels).toEqual(['processing']);
    expect(fake.issue('acme/demo', n).reactions).toEqual([{ content: 'eyes', user: 'alice' }]);
    expect(fake.rateLimit('token:alice').remaining).toBe(4994);
  });

  it('answers a matching conditional request with 304 that costs no quota', async () => {
    fake.createIssue('acme/demo', { title: 'x', labels: ['overskill'], user: alice });
    const first = await octokit.issues.listForRepo({ owner: 'acme', repo: 'demo' });
    const etag = String(first.headers.etag);
    await expect(octokit.issues.listForRepo({ owner: 'acme', repo: 'demo', headers: { 'if-none-match': etag } })).rejects.toMatchObject({ status: 304 });
    expect(fake.rateLimit('token:alice').remaining).toBe(4999);
    fake.createIssue('acme/demo', { title: 'y', labels: [], user: alice });
    const changed = await octokit.issues.listForRepo({ owner: 'acme', repo: 'demo', headers: { 'if-none-match': etag } });
    expect(changed.data).toHaveLength(2);
  });

  it('refuses a secondary limit with retry-after, which the throttling plugin waits out', async () => {
    const Throttled = Octokit.plugin(throttling);
    const waits: number[] = [];
    const client = new Throttled({
      auth: TOKEN,
      baseUrl: fake.url,
      throttle: {
        onRateLimit: () => false,
        onSecondaryRateLimit: (retryAfter: number, _options: unknown, _o: unknown, retryCount: number) => {
          waits.push(retryAfter);
          return retryCount < 1;
        },
      },
    });
    fake.secondaryLimit(1, 1);
    const started = Date.now();
    await client.issues.listForRepo({ owner: 'acme', repo: 'demo' });
    expect(waits).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(fake.calls.map((c) => c.status)).toEqual([403, 200]);
  });

  it('names the missing permission in a 403 and refuses when the quota is spent', async () => {
    fake.addToken('ghp_read_only', { login: 'bob', id: 12, type: 'User' }, { metadata: 'read', issues: 'read' });
    const n = fake.createIssue('acme/demo', { title: 'x', user: alice });
    const readOnly = new Octokit({ auth: 'ghp_read_only', baseUrl: fake.url });
    await expect(readOnly.issues.createComment({ owner: 'acme', repo: 'demo', issue_number: n, body: 'hi' })).rejects.toMatchObject({
      status: 403,
      response: { headers: { 'x-accepted-github-permissions': 'issues=write' } },
    });
    fake.setRateLimit('token:alice', 0, 60);
    await expect(octokit.issues.get({ owner: 'acme', repo: 'demo', issue_number: n })).rejects.toMatchObject({
      status: 403,
      response: { headers: { 'x-ratelimit-remaining': '0' } },
    });
  });

  it('opens one draft pull request for a branch pushed to the real bare repository', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gh-fake-spec-'));
    try {
      const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
      // Asynchronous: the fake answering git runs in this process.
      const run = (...args: string[]) => promisify(execFile)('git', ['-c', auth, ...args], { cwd: work });
      await run('clone', '-q', git.urlOf('demo'), '.');
      await run('checkout', '-q', '-b', 'overskill/issue-1');
      writeFileSync(join(work, 'a.txt'), 'a');
      await run('add', '-A');
      await run('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'a');
      await run('push', '-q', 'origin', 'overskill/issue-1');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const created = await octokit.pulls.create({
      owner: 'acme',
      repo: 'demo',
      head: 'overskill/issue-1',
      base: 'main',
      title: 'Fix #1',
      body: 'what changed',
      draft: true,
    });
    expect(created.data).toMatchObject({ number: 1, draft: true, head: { ref: 'overskill/issue-1' } });
    await expect(octokit.pulls.create({ owner: 'acme', repo: 'demo', head: 'overskill/issue-1', base: 'main', title: 'again' })).rejects.toMatchObject({
      status: 422,
    });
    await expect(octokit.pulls.create({ owner: 'acme', repo: 'demo', head: 'no-such-branch', base: 'main', title: 'x' })).rejects.toMatchObject({
      status: 422,
    });
    const open = await octokit.pulls.list({ owner: 'acme', repo: 'demo', head: 'acme:overskill/issue-1', state: 'open' });
    expect(open.data).toHaveLength(1);

    const review = fake.reviewAs('acme/demo', 1, { user: alice, body: 'two things', comments: [{ path: 'a.txt', line: 1, body: 'rename' }] });
    const reviewId = (review['review'] as { id: number }).id;
    const comments = await octokit.pulls.listCommentsForReview({ owner: 'acme', repo: 'demo', pull_number: 1, review_id: reviewId });
    await octokit.pulls.createReplyForReviewComment({ owner: 'acme', repo: 'demo', pull_number: 1, comment_id: comments.data[0]?.id ?? 0, body: 'renamed' });
    expect(fake.pull('acme/demo', 1).reviews[0]?.comments.map((c) => c.body)).toEqual(['rename', 'renamed']);
  });

  it('mints installation tokens for a GitHub App JWT and answers collaborator permission', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    fake.setApp(42, publicKey);
    fake.addInstallation(7, ['acme/demo'], { metadata: 'read', issues: 'write' });
    fake.setCollaborator('acme/demo', 'alice', 'write');
    const app = new Octokit({ baseUrl: fake.url, authStrategy: createAppAuth, auth: { appId: 42, privateKey, installationId: 7 } });
    const permission = await app.repos.getCollaboratorPermissionLevel({ owner: 'acme', repo: 'demo', username: 'alice' });
    expect(permission.data.permission).toBe('write');
    expect(fake.calls.at(-1)).toMatchObject({ bucket: 'installation:7', status: 200 });
    const other = new Octokit({
      baseUrl: fake.url,
      authStrategy: createAppAuth,
      auth: {
        appId: 42,
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }),
        installationId: 7,
      },
    });
    await expect(other.repos.get({ owner: 'acme', repo: 'demo' })).rejects.toMatchObject({ status: 401 });
  });

  it('sends webhooks whose signature verifies over the exact body', async () => {
    const received: Array<{ headers: Record<string, unknown>; body: string }> = [];
    const server = createServer((req, res) => {
      void readRequestBody(req).then((body) => {
        received.push({ headers: req.headers, body: body.toString('utf8') });
        res.writeHead(202).end();
      });
    });
    const url = await listenOnLoopback(server);
    try {
      const n = fake.createIssue('acme/demo', { title: 'x', user: alice });
      const sent = await fake.sendWebhook(url, 'issues', fake.labelIssue('acme/demo', n, 'overskill', alice, 7), 'hook-secret');
      expect(sent.status).toBe(202);
      const [delivery] = received;
      expect(delivery?.headers).toMatchObject({ 'x-github-event': 'issues', 'x-github-delivery': sent.id });
      expect(await new Webhooks({ secret: 'hook-secret' }).verify(delivery?.body ?? '', String(delivery?.headers['x-hub-signature-256']))).toBe(true);
      expect(await new Webhooks({ secret: 'other-secret' }).verify(delivery?.body ?? '', String(delivery?.headers['x-hub-signature-256']))).toBe(false);
      expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({
        action: 'labeled',
        label: { name: 'overskill' },
        issue: { number: n },
        repository: { full_name: 'acme/demo' },
        installation: { id: 7 },
      });
    } finally {
      await closeServer(server);
    }
  });
});

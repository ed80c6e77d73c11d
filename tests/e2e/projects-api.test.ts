import type { GitHubFake } from '@overskill/testing';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/integration-env';
import { startGatewayHarness, type ApiInit, type ApiResponse, type GatewayHarness } from '../support/gateway-harness';

// `pg` ships no types; the little used here is typed by hand.
const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

const GOOD = 'ghp_good_token_0123456789abcdef';
const LIMITED = 'ghp_no_pull_requests_0123456789';
const alice = { login: 'alice', id: 11, type: 'User' as const };

// Projects through the gateway against the orchestrator, with GitHub played by the fake: the
// credentials are checked before anything is stored, stored sealed, and never answered.
jest.setTimeout(60_000);

describe('projects API', () => {
  let github: GitHubFake;
  const app = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  let h: GatewayHarness;
  let admin: { key: string; teamId: string };
  const problems: string[] = [];

  const call = async (path: string, init: ApiInit = {}): Promise<ApiResponse> => {
    const res = await h.api(path, init);
    problems.push(...h.contract.check(init.method ?? 'GET', path, res));
    return res;
  };
  const create = (body: Record<string, unknown>, key = admin.key) => call('/api/projects', { method: 'POST', key, body });

  beforeAll(async () => {
    h = await startGatewayHarness({ name: 'projects-api', redisDb: 11, services: ['gateway', 'orchestrator'] });
    github = h.github;
    github.addRepo('acme', 'widgets');
    github.addRepo('acme', 'gadgets');
    github.addRepo('acme', 'tools');
    github.addToken(GOOD, alice, { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' });
    github.addToken(LIMITED, alice, { metadata: 'read', contents: 'write', issues: 'write' });
    github.setApp(4242, app.publicKey);
    github.addInstallation(77, ['acme/tools'], { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' });
    admin = h.key('projects-team', 'admin');
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it('creates a project with the defaults once the token is checked, and never answers the token', async () => {
    const res = await create({ repository: 'acme/widgets', auth: { kind: 'token', token: GOOD } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      repository: 'acme/widgets',
      auth: { kind: 'token', appId: null, installationId: null },
      labels: { trigger: 'overskill', processing: 'processing', awaitingResponse: 'awaiting-response', completed: 'completed', failed: 'failed' },
      priorityLabels: [
        { label: 'urgent', priority: 100 },
        { label: 'high', priority: 75 },
        { label: 'normal', priority: 50 },
        { label: 'low', priority: 25 },
      ],
      baseBranch: 'main',
      answerMode: 'auto',
      concurrency: 2,
    });
    expect(res.body.permissions).toEqual(expect.arrayContaining(['contents=write', 'issues=write', 'pull_requests=write']));
    const got = await call(`/api/projects/${res.body.id}`);
    const listed = await call('/api/projects');
    for (const text of [res.text, got.text, listed.text]) expect(text).not.toContain(GOOD);
    expect(listed.body.data.map((p: { id: string }) => p.id)).toContain(res.body.id);

    const again = await create({ repository: 'acme/widgets', auth: { kind: 'token', token: GOOD } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('PROJECT_EXISTS');
  });

  it('names the missing permission, and refuses bad credentials and unknown repositories, storing nothing', async () => {
    const missing = await create({ repository: 'acme/gadgets', auth: { kind: 'token', token: LIMITED } });
    expect(missing.status).toBe(422);
    expect(missing.body.code).toBe('GITHUB_PERMISSION_MISSING');
    expect(missing.body.message).toContain('pull_requests');
    const bad = await create({ repository: 'acme/gadgets', auth: { kind: 'token', token: 'ghp_wrong' } });
    expect([bad.status, bad.body.code]).toEqual([422, 'GITHUB_AUTH_FAILED']);
    const unknown = await create({ repository: 'acme/nothing-here', auth: { kind: 'token', token: GOOD } });
    expect([unknown.status, unknown.body.code]).toEqual([422, 'GITHUB_REPO_NOT_FOUND']);
    const listed = await call('/api/projects');
    expect(listed.body.data.map((p: { repository: string }) => p.repository)).not.toContain('acme/gadgets');
  });

  it('rejects malformed input with a clear 400 before asking GitHub', async () => {
    const before = github.calls.length;
    for (const body of [
      { repository: 'acme', auth: { kind: 'token', token: GOOD } },
      { repository: 'acme/x', auth: { kind: 'token', token: GOOD }, concurrency: 0 },
      { repository: 'acme/x', auth: { kind: 'password', token: GOOD } },
      { repository: 'acme/x', auth: { kind: 'token', token: GOOD }, labels: { trigger: 'a,b' } },
      { repository: 'acme/x', auth: { kind: 'token', token: GOOD }, extra: true },
    ]) {
      const res = await create(body);
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(res.text).not.toContain('    at ');
    }
    const dup = await create({ repository: 'acme/x', auth: { kind: 'token', token: GOOD }, labels: { processing: 'same', completed: 'same' } });
    expect([dup.status, dup.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(github.calls.length).toBe(before);
    expect((await call('/api/projects/not-a-uuid')).status).toBe(404);
  });

  it('authenticates as a GitHub App installation with tokens minted from its key', async () => {
    const res = await create({
      repository: 'acme/tools',
      auth: { kind: 'app', appId: 4242, installationId: 77, privateKey: app.privateKey },
      concurrency: 3,
      answerMode: 'pull_request',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ auth: { kind: 'app', appId: 4242, installationId: 77 }, concurrency: 3, answerMode: 'pull_request' });
    expect(res.text).not.toContain('PRIVATE KEY');
    expect(github.calls.some((c) => c.path === '/app/installations/77/access_tokens' && c.status === 201)).toBe(true);
  });

  it('lets viewers read, admins manage, and keeps teams apart', async () => {
    const viewer = h.key('projects-team', 'viewer');
    const member = h.key('projects-team', 'member');
    const other = h.key('projects-other-team', 'owner');
    const listed = await call('/api/projects', { key: viewer.key });
    expect(listed.status).toBe(200);
    const id = listed.body.data.find((p: { repository: string }) => p.repository === 'acme/widgets').id as string;
    expect((await create({ repository: 'acme/gadgets', auth: { kind: 'token', token: GOOD } }, viewer.key)).status).toBe(403);
    expect((await create({ repository: 'acme/gadgets', auth: { kind: 'token', token: GOOD } }, member.key)).status).toBe(403);
    expect((await call(`/api/projects/${id}`, { method: 'DELETE', key: member.key })).status).toBe(403);

    const foreign = await call(`/api/projects/${id}`, { key: other.key });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'PROJECT_NOT_FOUND']);
    expect((await call(`/api/projects/${id}`, { method: 'PATCH', key: other.key, body: { concurrency: 5 } })).status).toBe(404);
    expect((await call(`/api/projects/${id}`, { method: 'DELETE', key: other.key })).status).toBe(404);
    expect((await call('/api/projects', { key: other.key })).body.data).toEqual([]);
  });

  it('changes settings, re-checks new credentials before storing them, and deletes', async () => {
    const listed = await call('/api/projects');
    const id = listed.body.data.find((p: { repository: string }) => p.repository === 'acme/widgets').id as string;
    const changed = await call(`/api/projects/${id}`, {
      method: 'PATCH',
      body: { concurrency: 4, labels: { trigger: 'bot' }, priorityLabels: [{ label: 'p0', priority: 100 }] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      concurrency: 4,
      labels: { trigger: 'bot', processing: 'processing' },
      priorityLabels: [{ label: 'p0', priority: 100 }],
    });

    const refused = await call(`/api/projects/${id}`, { method: 'PATCH', body: { token: LIMITED, concurrency: 1 } });
    expect([refused.status, refused.body.code]).toEqual([422, 'GITHUB_PERMISSION_MISSING']);
    expect((await call(`/api/projects/${id}`)).body.concurrency).toBe(4);
    const wrongKind = await call(`/api/projects/${id}`, { method: 'PATCH', body: { privateKey: app.privateKey } });
    expect([wrongKind.status, wrongKind.body.code]).toEqual([400, 'VALIDATION_FAILED']);

    const deleted = await call(`/api/projects/${id}`, { method: 'DELETE' });
    expect(deleted.body).toEqual({ id, deleted: true });
    expect((await call(`/api/projects/${id}`)).status).toBe(404);
  });

  it('is managed from the operator CLI too: projects add|list|remove, tasks list, github rate-limit', async () => {
    // Asynchronous: the GitHub fake the orchestrator asks runs in this process.
    const cli = async (args: string[], env: Record<string, string> = {}) => {
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'dist/tools/cli/src/main.js'), ...args], {
          env: { ...process.env, NATS_URL: h.natsUrl, NATS_NKEY_SEED: h.natsSeeds.cli, ...env },
        });
        return { status: 0, stdout, stderr: '' };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { status: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    const teamId = admin.teamId;
    const noToken = await cli(['projects', 'add', '--team', teamId, '--repo', 'acme/gadgets'], { GITHUB_TOKEN: '' });
    expect(noToken.status).not.toBe(0);
    expect(noToken.stderr).toContain('GITHUB_TOKEN');
    const refused = await cli(['projects', 'add', '--team', teamId, '--repo', 'acme/gadgets', '--token-env', 'LIMITED_TOKEN'], { LIMITED_TOKEN: LIMITED });
    expect(refused.stderr).toMatch(/GITHUB_PERMISSION_MISSING.*pull_requests/);

    const added = await cli(['projects', 'add', '--team', teamId, '--repo', 'acme/gadgets', '--concurrency', '3', '--json'], { GITHUB_TOKEN: GOOD });
    expect(added.status).toBe(0);
    expect(added.stdout).not.toContain(GOOD);
    const project = JSON.parse(added.stdout) as { id: string; repository: string; concurrency: number };
    expect(project).toMatchObject({ repository: 'acme/gadgets', concurrency: 3 });
    expect((await cli(['projects', 'list', '--team', teamId])).stdout).toContain('acme/gadgets');
    expect(JSON.parse((await cli(['tasks', 'list', '--team', teamId, '--project', project.id, '--json'])).stdout)).toEqual([]);
    const quota = JSON.parse((await cli(['github', 'rate-limit', '--team', teamId, '--project', project.id, '--json'])).stdout) as {
      account: string;
      remaining: number;
      limit: number;
    };
    expect(quota).toMatchObject({ account: expect.stringMatching(/^token:[0-9a-f]{12}$/), limit: 5000 });
    expect(quota.remaining).toBe(github.rateLimit('token:alice').remaining);
    expect((await cli(['projects', 'remove', project.id, '--team', teamId])).stdout).toContain('removed');
    expect((await cli(['projects', 'remove', project.id, '--team', teamId])).stderr).toContain('PROJECT_NOT_FOUND');
  });

  it('stores credentials only as ciphertext', async () => {
    const db = new pg.Client({ connectionString: h.databaseUrl });
    await db.connect();
    try {
      const rows = (await db.query('SELECT * FROM orchestrator.projects')).rows;
      expect(rows.length).toBeGreaterThan(0);
      const raw = JSON.stringify(rows);
      for (const secret of [GOOD, LIMITED, 'PRIVATE KEY', app.privateKey.split('\n')[1] ?? '']) expect(raw).not.toContain(secret);
      for (const row of rows) expect(String(row['secret'])).toMatch(/^v1:k1:/);
    } finally {
      await db.end();
    }
  });
});

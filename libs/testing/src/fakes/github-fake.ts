import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readRequestBody, sendJson } from './loopback-http-server';
import {
  commentPayload,
  issuePayload,
  labelPayload,
  repositoryPayload,
  userPayload,
  webhookDelivery,
  type FakeIssueShape,
  type FakeRepositoryRef,
  type FakeUser,
} from './github-webhook-payloads';

export type GitHubPermission = 'contents' | 'issues' | 'pull_requests' | 'metadata';
export type GitHubAccess = 'read' | 'write';
export type GitHubPermissions = Partial<Record<GitHubPermission, GitHubAccess>>;

export interface GitHubFakeCall {
  method: string;
  path: string;
  status: number;
  // Which quota bucket paid for it (`token:<login>` or `installation:<id>`); '' for unauthenticated.
  bucket: string;
  authorization: string;
}

interface Principal {
  bucket: string;
  user: FakeUser;
  permissions: GitHubPermissions;
  kind: 'pat' | 'installation';
  repos?: Set<string>;
}

interface Bucket {
  limit: number;
  remaining: number;
  resetAt: number;
}

interface FakeComment {
  id: number;
  body: string;
  user: FakeUser;
  createdAt: string;
  updatedAt: string;
}

interface FakeIssue extends FakeIssueShape {
  comments: FakeComment[];
  reactions: Array<{ content: string; user: string; commentId?: number }>;
}

interface FakePull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  state: 'open' | 'closed';
  user: FakeUser;
  reviews: Array<{
    id: number;
    user: FakeUser;
    body: string;
    state: string;
    comments: Array<{ id: number; path: string; line: number; body: string; inReplyTo?: number; user: FakeUser }>;
  }>;
}

interface FakeRepo extends FakeRepositoryRef {
  issues: Map<number, FakeIssue>;
  pulls: Map<number, FakePull>;
  collaborators: Map<string, 'admin' | 'write' | 'read' | 'none'>;
  nextNumber: number;
  refs: () => string[];
}

const LEVEL: Record<GitHubAccess, number> = { read: 1, write: 2 };
const DOCS = 'https://docs.github.com/rest';

/**
 * GitHub's REST API on 127.0.0.1, for what the task runner uses: issues, comments, labels,
 * reactions, pulls, reviews, collaborator permission, installation tokens (a GitHub App's RS256
 * JWT verified against its public key), rate-limit headers per token or installation, secondary
 * limits (403 with retry-after), conditional requests (ETag/304 costs no quota) and the 403 that
 * names a missing permission (`x-accepted-github-permissions`). It also sends signed webhooks.
 * Pushes go to a real bare repository served by GitHttpFake; pass its refs to `addRepo`.
 */
export class GitHubFake {
  readonly calls: GitHubFakeCall[] = [];
  url = '';
  private server: Server | undefined;
  private readonly repos = new Map<string, FakeRepo>();
  private readonly tokens = new Map<string, Principal>();
  private readonly installations = new Map<number, { repos: Set<string>; permissions: GitHubPermissions }>();
  private readonly buckets = new Map<string, Bucket>();
  private secondary: { remaining: number; retryAfterSeconds: number } = { remaining: 0, retryAfterSeconds: 0 };
  private nextId = 1000;
  private appKey: { appId: number; publicKeyPem: string } | undefined;
  readonly bot: FakeUser = { login: 'overskill[bot]', id: 90_000, type: 'Bot' };

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.url = await listenOnLoopback(this.server);
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  addRepo(owner: string, name: string, opts: { refs?: () => string[] } = {}): FakeRepositoryRef {
    const repo: FakeRepo = {
      id: this.nextId++,
      owner,
      name,
      issues: new Map(),
      pulls: new Map(),
      collaborators: new Map(),
      nextNumber: 1,
      refs: opts.refs ?? (() => ['refs/heads/main']),
    };
    this.repos.set(`${owner}/${name}`, repo);
    return { id: repo.id, owner, name };
  }

  // A personal access token acting as `user` with these fine-grained permissions.
  addToken(token: string, user: FakeUser, permissions: GitHubPermissions): void {
    this.tokens.set(token, { bucket: `token:${user.login}`, user, permissions, kind: 'pat' });
  }

  // A GitHub App: installation tokens are minted for a JWT signed with the app's private key.
  setApp(appId: number, publicKeyPem: string): void {
    this.appKey = { appId, publicKeyPem };
  }

  addInstallation(id: number, repos: string[], permissions: GitHubPermissions): void {
    this.installations.set(id, { repos: new Set(repos), permissions });
  }

  setCollaborator(repo: string, login: string, permission: 'admin' | 'write' | 'read' | 'none'): void {
    this.repo(repo).collaborators.set(login, permission);
  }

  // Quota of a bucket (`token:<login>` or `installation:<id>`), resetting `resetInSeconds` from now.
  setRateLimit(bucket: string, remaining: number, resetInSeconds = 3600, limit = 5000): void {
    this.buckets.set(bucket, { limit, remaining, resetAt: Math.floor(Date.now() / 1000) + resetInSeconds });
  }

  rateLimit(bucket: string): Bucket {
    return this.bucketOf(bucket);
  }

  // The next `times` authenticated requests are refused as over a secondary rate limit.
  secondaryLimit(times: number, retryAfterSeconds: number): void {
    this.secondary = { remaining: times, retryAfterSeconds };
  }

  createIssue(repoName: string, input: { title: string; body?: string; labels?: string[]; user: FakeUser }): number {
    const repo = this.repo(repoName);
    const now = new Date().toISOString();
    const number = repo.nextNumber++;
    repo.issues.set(number, {
      number,
      title: input.title,
      body: input.body ?? '',
      state: 'open',
      labels: [...(input.labels ?? [])],
      user: input.user,
      createdAt: now,
      updatedAt: now,
      comments: [],
      reactions: [],
    });
    return number;
  }

  // A person adds a label on github.com: the issue changes and the `issues.labeled` payload is returned.
  labelIssue(repoName: string, number: number, label: string, sender: FakeUser, installationId?: number): Record<string, unknown> {
    const repo = this.repo(repoName);
    const issue = this.issue(repoName, number);
    if (!issue.labels.includes(label)) issue.labels.push(label);
    issue.updatedAt = new Date().toISOString();
    return {
      action: 'labeled',
      issue: issuePayload(repo, issue),
      label: labelPayload(label),
      repository: repositoryPayload(repo),
      sender: userPayload(sender),
      ...installationOf(installationId),
    };
  }

  // A person comments on github.com: the `issue_comment.created` payload.
  commentAs(repoName: string, number: number, body: string, user: FakeUser, installationId?: number): Record<string, unknown> {
    const repo = this.repo(repoName);
    const issue = this.issue(repoName, number);
    const comment = this.addComment(issue, body, user);
    return {
      action: 'created',
      issue: issuePayload(repo, issue),
      comment: commentPayload(repo, number, comment),
      repository: repositoryPayload(repo),
      sender: userPayload(user),
      ...installationOf(installationId),
    };
  }

  // A reviewer submits a review with line comments: the `pull_request_review.submitted` payload.
  reviewAs(
    repoName: string,
    pullNumber: number,
    review: { user: FakeUser; body: string; comments: Array<{ path: string; line: number; body: string }> },
    installationId?: number,
  ): Record<string, unknown> {
    const repo = this.repo(repoName);
    const pull = this.pull(repoName, pullNumber);
    const id = this.nextId++;
    pull.reviews.push({
      id,
      user: review.user,
      body: review.body,
      state: 'commented',
      comments: review.comments.map((c) => ({ ...c, id: this.nextId++, user: review.user })),
    });
    return {
      action: 'submitted',
      review: {
        id,
        node_id: `PRR_${id}`,
        user: userPayload(review.user),
        body: review.body,
        state: 'commented',
        submitted_at: new Date().toISOString(),
        pull_request_url: `https://api.github.com/repos/${repoName}/pulls/${pullNumber}`,
      },
      pull_request: this.pullPayload(repo, pull),
      repository: repositoryPayload(repo),
      sender: userPayload(review.user),
      ...installationOf(installationId),
    };
  }

  // A reviewer comments on a line of the pull request (a single-comment review): the
  // `pull_request_review_comment.created` payload. Several in a row are a review's burst.
  reviewCommentAs(
    repoName: string,
    pullNumber: number,
    comment: { user: FakeUser; path: string; line: number; body: string },
    installationId?: number,
  ): Record<string, unknown> {
    const repo = this.repo(repoName);
    const pull = this.pull(repoName, pullNumber);
    const reviewId = this.nextId++;
    const id = this.nextId++;
    pull.reviews.push({
      id: reviewId,
      user: comment.user,
      body: '',
      state: 'commented',
      comments: [{ id, path: comment.path, line: comment.line, body: comment.body, user: comment.user }],
    });
    const now = new Date().toISOString();
    return {
      action: 'created',
      comment: {
        id,
        pull_request_review_id: reviewId,
        path: comment.path,
        line: comment.line,
        body: comment.body,
        user: userPayload(comment.user),
        created_at: now,
        updated_at: now,
      },
      pull_request: this.pullPayload(repo, pull),
      repository: repositoryPayload(repo),
      sender: userPayload(comment.user),
      ...installationOf(installationId),
    };
  }

  // Every review comment of the pull request, replies included (threads by `inReplyTo`).
  reviewComments(repoName: string, pullNumber: number): Array<{ id: number; path: string; line: number; body: string; inReplyTo?: number; user: FakeUser }> {
    return this.pull(repoName, pullNumber).reviews.flatMap((r) => r.comments);
  }

  issue(repoName: string, number: number): FakeIssue {
    const issue = this.repo(repoName).issues.get(number);
    if (!issue) throw new Error(`no issue ${repoName}#${number}`);
    return issue;
  }

  pulls(repoName: string): FakePull[] {
    return [...this.repo(repoName).pulls.values()];
  }

  pull(repoName: string, number: number): FakePull {
    const pull = this.repo(repoName).pulls.get(number);
    if (!pull) throw new Error(`no pull ${repoName}#${number}`);
    return pull;
  }

  // Sends a signed webhook to `url`, as GitHub's hook delivery does.
  async sendWebhook(
    url: string,
    event: string,
    payload: unknown,
    secret: string,
    opts: { id?: string; headers?: Record<string, string | undefined> } = {},
  ): Promise<{ status: number; body: string; id: string }> {
    const delivery = webhookDelivery(event, payload, secret, { id: opts.id });
    const headers: Record<string, string> = { ...delivery.headers };
    for (const [name, value] of Object.entries(opts.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    const response = await fetch(url, { method: 'POST', headers, body: delivery.body });
    return { status: response.status, body: await response.text(), id: delivery.id };
  }

  private repo(name: string): FakeRepo {
    const repo = this.repos.get(name);
    if (!repo) throw new Error(`no repository ${name} in the GitHub fake`);
    return repo;
  }

  private bucketOf(key: string): Bucket {
    let bucket = this.buckets.get(key);
    const now = Math.floor(Date.now() / 1000);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { limit: bucket?.limit ?? 5000, remaining: bucket?.limit ?? 5000, resetAt: now + 3600 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private addComment(issue: FakeIssue, body: string, user: FakeUser): FakeComment {
    const now = new Date().toISOString();
    const comment = { id: this.nextId++, body, user, createdAt: now, updatedAt: now };
    issue.comments.push(comment);
    issue.updatedAt = now;
    return comment;
  }

  private pullPayload(repo: FakeRepo, pull: FakePull) {
    const fullName = `${repo.owner}/${repo.name}`;
    return {
      id: repo.id * 100_000 + pull.number,
      number: pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      draft: pull.draft,
      user: userPayload(pull.user),
      html_url: `https://github.com/${fullName}/pull/${pull.number}`,
      url: `https://api.github.com/repos/${fullName}/pulls/${pull.number}`,
      head: { ref: pull.head, label: `${repo.owner}:${pull.head}`, repo: repositoryPayload(repo) },
      base: { ref: pull.base, label: `${repo.owner}:${pull.base}`, repo: repositoryPayload(repo) },
    };
  }

  private principal(authorization: string): Principal | undefined {
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization);
    return match ? this.tokens.get(match[1] ?? '') : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const authorization = String(req.headers.authorization ?? '');
    const call: GitHubFakeCall = { method, path: url.pathname + url.search, status: 0, bucket: '', authorization };
    this.calls.push(call);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      sendJson(res, status, body, headers);
    };
    try {
      const raw = await readRequestBody(req, 1024 * 1024);
      const body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};

      // App endpoints: authenticated by the app's JWT, not by a token.
      const tokenRoute = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
      const repoInstallation = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(url.pathname);
      if (tokenRoute || repoInstallation) {
        if (!this.verifyJwt(authorization)) return reply(401, { message: 'A JSON web token could not be decoded', documentation_url: DOCS });
        if (repoInstallation) {
          const full = `${repoInstallation[1]}/${repoInstallation[2]}`;
          const found = [...this.installations.entries()].find(([, i]) => i.repos.has(full));
          return found
            ? reply(200, { id: found[0], app_id: this.appKey?.appId, permissions: found[1].permissions })
            : reply(404, { message: 'Not Found', documentation_url: DOCS });
        }
        const id = Number(tokenRoute?.[1]);
        const installation = this.installations.get(id);
        if (!installation || method !== 'POST') return reply(404, { message: 'Not Found', documentation_url: DOCS });
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        const expiresAt = new Date(Date.now() + 3600_000).toISOString();
        this.tokens.set(token, {
          bucket: `installation:${id}`,
          user: this.bot,
          permissions: installation.permissions,
          kind: 'installation',
          repos: installation.repos,
        });
        return reply(201, { token, expires_at: expiresAt, permissions: installation.permissions, repository_selection: 'selected' });
      }

      const principal = this.principal(authorization);
      if (!principal) return reply(401, { message: 'Bad credentials', documentation_url: DOCS });
      call.bucket = principal.bucket;
      const bucket = this.bucketOf(principal.bucket);
      const quota = () => ({
        'x-ratelimit-limit': String(bucket.limit),
        'x-ratelimit-remaining': String(bucket.remaining),
        'x-ratelimit-used': String(bucket.limit - bucket.remaining),
        'x-ratelimit-reset': String(bucket.resetAt),
        'x-ratelimit-resource': 'core',
      });
      if (this.secondary.remaining > 0) {
        this.secondary.remaining -= 1;
        return reply(
          403,
          { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: DOCS },
          { ...quota(), 'retry-after': String(this.secondary.retryAfterSeconds) },
        );
      }
      if (url.pathname === '/rate_limit') {
        const core = { limit: bucket.limit, remaining: bucket.remaining, reset: bucket.resetAt, used: bucket.limit - bucket.remaining };
        return reply(200, { resources: { core }, rate: core }, quota());
      }
      if (bucket.remaining <= 0) {
        return reply(403, { message: `API rate limit exceeded for ${principal.bucket}.`, documentation_url: DOCS }, quota());
      }

      const answer = this.route(method, url, body, principal);
      const payload = JSON.stringify(answer.body);
      const etag = `W/"${createHash('sha1').update(payload).digest('hex')}"`;
      // A conditional request that matches is answered 304 and costs no quota, as on GitHub.
      if (method === 'GET' && answer.status === 200 && req.headers['if-none-match'] === etag) {
        call.status = 304;
        res.writeHead(304, { etag, ...quota() });
        res.end();
        return;
      }
      bucket.remaining -= 1;
      return reply(answer.status, answer.body, { ...quota(), ...(method === 'GET' ? { etag } : {}), ...(answer.headers ?? {}) });
    } catch (err) {
      return reply(400, { message: `Problems parsing JSON: ${(err as Error).message}`, documentation_url: DOCS });
    }
  }

  private verifyJwt(authorization: string): boolean {
    const match = /^bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(authorization);
    if (!match || !this.appKey) return false;
    const [, header, claims, signature] = match as unknown as [string, string, string, string];
    const ok = verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), createPublicKey(this.appKey.publicKeyPem), Buffer.from(signature, 'base64url'));
    if (!ok) return false;
    const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as { iss?: number | string; exp?: number };
    return String(decoded.iss) === String(this.appKey.appId) && (decoded.exp ?? 0) > Date.now() / 1000;
  }

  private route(method: string, url: URL, body: Record<string, unknown>, who: Principal): { status: number; body: unknown; headers?: Record<string, string> } {
    const notFound = { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return notFound;
    const full = `${m[1]}/${m[2]}`;
    const repo = this.repos.get(full);
    if (!repo || (who.repos && !who.repos.has(full))) return notFound;
    const rest = m[3] ?? '';
    const need = (permission: GitHubPermission, access: GitHubAccess) => {
      const has = who.permissions[permission];
      if (has && LEVEL[has] >= LEVEL[access]) return undefined;
      const by = who.kind === 'installation' ? 'integration' : 'personal access token';
      return {
        status: 403,
        body: { message: `Resource not accessible by ${by}`, documentation_url: DOCS },
        headers: { 'x-accepted-github-permissions': `${permission}=${access}` },
      };
    };
    const issueOf = (n: string | undefined) => repo.issues.get(Number(n));
    let match: RegExpExecArray | null;

    if (rest === '' && method === 'GET') {
      const refused = need('metadata', 'read');
      if (refused) return refused;
      const push = who.permissions.contents === 'write';
      return { status: 200, body: { ...repositoryPayload(repo), permissions: { admin: false, maintain: false, push, triage: push, pull: true } } };
    }
    if ((match = /^\/collaborators\/([^/]+)\/permission$/.exec(rest)) && method === 'GET') {
      const refused = need('metadata', 'read');
      if (refused) return refused;
      const login = decodeURIComponent(match[1] ?? '');
      const permission = repo.collaborators.get(login) ?? 'none';
      return { status: 200, body: { permission, role_name: permission, user: userPayload({ login, id: 1, type: 'User' }) } };
    }
    if (rest === '/issues' && method === 'GET') {
      const refused = need('issues', 'read');
      if (refused) return refused;
      const state = url.searchParams.get('state') ?? 'open';
      const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
      const list = [...repo.issues.values()].filter((i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.includes(l)));
      return { status: 200, body: list.map((i) => ({ ...issuePayload(repo, i), comments: i.comments.length })) };
    }
    if ((match = /^\/issues\/(\d+)$/.exec(rest))) {
      const issue = issueOf(match[1]);
      if (!issue) return notFound;
      const refused = need('issues', method === 'GET' ? 'read' : 'write');
      if (refused) return refused;
      if (method === 'PATCH') {
        if (body['state'] === 'open' || body['state'] === 'closed') issue.state = body['state'];
        issue.updatedAt = new Date().toISOString();
      }
      return { status: 200, body: { ...issuePayload(repo, issue), comments: issue.comments.length } };
    }
    if ((match = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const issue = issueOf(match[1]);
      if (!issue) return notFound;
      const refused = need('issues', method === 'GET' ? 'read' : 'write');
      if (refused) return refused;
      if (method === 'POST') {
        if (typeof body['body'] !== 'string' || !body['body'])
          return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }] } };
        return { status: 201, body: commentPayload(repo, issue.number, this.addComment(issue, body['body'], who.user)) };
      }
      return { status: 200, body: issue.comments.map((c) => commentPayload(repo, issue.number, c)) };
    }
    if ((match = /^\/issues\/comments\/(\d+)$/.exec(rest))) {
      const id = Number(match[1]);
      const issue = [...repo.issues.values()].find((i) => i.comments.some((c) => c.id === id));
      const comment = issue?.comments.find((c) => c.id === id);
      if (!issue || !comment) return notFound;
      const refused = need('issues', method === 'GET' ? 'read' : 'write');
      if (refused) return refused;
      if (method === 'PATCH' && typeof body['body'] === 'string') {
        comment.body = body['body'];
        comment.updatedAt = new Date().toISOString();
      }
      return { status: 200, body: commentPayload(repo, issue.number, comment) };
    }
    if ((match = /^\/issues\/(\d+)\/labels(?:\/([^/]+))?$/.exec(rest))) {
      const issue = issueOf(match[1]);
      if (!issue) return notFound;
      const refused = need('issues', method === 'GET' ? 'read' : 'write');
      if (refused) return refused;
      if (method === 'POST') {
        const labels = Array.isArray(body['labels']) ? body['labels'].map(String) : [];
        for (const l of labels) if (!issue.labels.includes(l)) issue.labels.push(l);
      } else if (method === 'DELETE') {
        const name = decodeURIComponent(match[2] ?? '');
        if (!issue.labels.includes(name)) return { status: 404, body: { message: 'Label does not exist', documentation_url: DOCS } };
        issue.labels = issue.labels.filter((l) => l !== name);
      }
      return { status: 200, body: issue.labels.map(labelPayload) };
    }
    if ((match = /^\/issues\/(?:(\d+)|comments\/(\d+))\/reactions$/.exec(rest)) && method === 'POST') {
      const issue = match[1] ? issueOf(match[1]) : [...repo.issues.values()].find((i) => i.comments.some((c) => c.id === Number(match?.[2])));
      if (!issue) return notFound;
      const refused = need('issues', 'write');
      if (refused) return refused;
      const content = String(body['content'] ?? '');
      const existing = issue.reactions.find(
        (r) => r.content === content && r.user === who.user.login && r.commentId === (match?.[2] ? Number(match[2]) : undefined),
      );
      if (!existing) issue.reactions.push({ content, user: who.user.login, ...(match[2] ? { commentId: Number(match[2]) } : {}) });
      return { status: existing ? 200 : 201, body: { id: this.nextId++, content, user: userPayload(who.user) } };
    }
    if (rest === '/pulls') {
      const refused = need('pull_requests', method === 'GET' ? 'read' : 'write');
      if (refused) return refused;
      if (method === 'POST') {
        const head = String(body['head'] ?? '').replace(/^[^:]+:/, '');
        const base = String(body['base'] ?? 'main');
        if (!repo.refs().includes(`refs/heads/${head}`))
          return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] } };
        if ([...repo.pulls.values()].some((p) => p.head === head && p.state === 'open')) {
          return {
            status: 422,
            body: {
              message: 'Validation Failed',
              errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${head}.` }],
            },
          };
        }
        const number = repo.nextNumber++;
        const pull: FakePull = {
          number,
          title: String(body['title'] ?? ''),
          body: String(body['body'] ?? ''),
          head,
          base,
          draft: body['draft'] === true,
          state: 'open',
          user: who.user,
          reviews: [],
        };
        repo.pulls.set(number, pull);
        return { status: 201, body: this.pullPayload(repo, pull) };
      }
      const head = (url.searchParams.get('head') ?? '').replace(/^[^:]+:/, '');
      const state = url.searchParams.get('state') ?? 'open';
      const list = [...repo.pulls.values()].filter((p) => (!head || p.head === head) && (state === 'all' || p.state === state));
      return { status: 200, body: list.map((p) => this.pullPayload(repo, p)) };
    }
    if ((match = /^\/pulls\/(\d+)$/.exec(rest))) {
      const pull = repo.pulls.get(Number(match[1]));
      if (!pull) return notFound;
      const refused = need('pull_requests', method === 'GET' ? 'read' : 'write');
      if (refused) return refused;
      if (method === 'PATCH') {
        if (typeof body['body'] === 'string') pull.body = body['body'];
        if (typeof body['title'] === 'string') pull.title = body['title'];
      }
      return { status: 200, body: this.pullPayload(repo, pull) };
    }
    if ((match = /^\/pulls\/(\d+)\/reviews$/.exec(rest)) && method === 'GET') {
      const pull = repo.pulls.get(Number(match[1]));
      if (!pull) return notFound;
      const refused = need('pull_requests', 'read');
      if (refused) return refused;
      return { status: 200, body: pull.reviews.map((r) => ({ id: r.id, user: userPayload(r.user), body: r.body, state: r.state })) };
    }
    if ((match = /^\/pulls\/(\d+)\/reviews\/(\d+)\/comments$/.exec(rest)) && method === 'GET') {
      const review = repo.pulls.get(Number(match[1]))?.reviews.find((r) => r.id === Number(match?.[2]));
      if (!review) return notFound;
      const refused = need('pull_requests', 'read');
      if (refused) return refused;
      return {
        status: 200,
        body: review.comments.map((c) => ({
          id: c.id,
          path: c.path,
          line: c.line,
          body: c.body,
          user: userPayload(c.user),
          pull_request_review_id: review.id,
        })),
      };
    }
    if ((match = /^\/pulls\/(\d+)\/comments$/.exec(rest)) && method === 'GET') {
      const pull = repo.pulls.get(Number(match[1]));
      if (!pull) return notFound;
      const refused = need('pull_requests', 'read');
      if (refused) return refused;
      const all = pull.reviews.flatMap((r) =>
        r.comments.map((c) => ({
          id: c.id,
          path: c.path,
          line: c.line,
          body: c.body,
          user: userPayload(c.user),
          pull_request_review_id: r.id,
          in_reply_to_id: c.inReplyTo,
        })),
      );
      return { status: 200, body: all };
    }
    if ((match = /^\/pulls\/(\d+)\/comments\/(\d+)\/replies$/.exec(rest)) && method === 'POST') {
      const review = repo.pulls.get(Number(match[1]))?.reviews.find((r) => r.comments.some((c) => c.id === Number(match?.[2])));
      const parent = review?.comments.find((c) => c.id === Number(match?.[2]));
      if (!review || !parent) return notFound;
      const refused = need('pull_requests', 'write');
      if (refused) return refused;
      const reply = { id: this.nextId++, path: parent.path, line: parent.line, body: String(body['body'] ?? ''), inReplyTo: parent.id, user: who.user };
      review.comments.push(reply);
      return { status: 201, body: { id: reply.id, body: reply.body, in_reply_to_id: parent.id, user: userPayload(who.user) } };
    }
    return notFound;
  }
}

function installationOf(id: number | undefined) {
  return id === undefined ? {} : { installation: { id, node_id: `MDIz${id}` } };
}

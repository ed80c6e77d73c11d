import { Inject, Injectable } from '@nestjs/common';
import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { RequestError } from '@octokit/request-error';
import { Octokit } from '@octokit/rest';
import { AppError, ErrorCode } from '@overskill/contracts';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Gauge } from 'prom-client';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitHubQuotaRepository, type Quota } from './github-quota.repository';

export type GitHubAuth = { kind: 'token'; token: string } | { kind: 'app'; appId: number; privateKey: string; installationId: number };

export type Access = 'read' | 'write';

export type { Quota } from './github-quota.repository';

// Work at or above this priority (PoppoBuilder's `high`) goes on while the quota is low; below
// it (and polling) waits for the reset. Calls outside any task (people waiting on the API) are urgent.
export const URGENT_PRIORITY = 75;
const INTERACTIVE_PRIORITY = 100;
const priorityScope = new AsyncLocalStorage<number>();

export type LabelledIssues = { changed: false } | { changed: true; etag: string | null; issues: Array<{ number: number; title: string; labels: string[] }> };

// What a project needs: push branches, label and comment on issues, open pull requests.
export const REQUIRED_PERMISSIONS: Readonly<Record<string, Access>> = { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' };

const ThrottledOctokit = Octokit.plugin(throttling, retry);
// Short waits are worth it while a person waits for an answer; longer ones are refused.
const MAX_INTERACTIVE_WAIT_S = 5;

// GitHub's REST API through Octokit: throttled (secondary limits honour retry-after), retried on
// 5xx, installation tokens minted from the app's key and cached until shortly before they expire.
// Every answer's x-ratelimit-* headers go to Redis, shared by the replicas; before each request
// the account's quota is looked at there: low, and work below URGENT_PRIORITY waits for the reset
// (refused with GITHUB_RATE_LIMITED and the time to come back); spent, or held by a secondary
// limit's retry-after, and nothing is sent at all.
@Injectable()
export class GitHubRepository {
  private readonly clients = new Map<string, Octokit>();

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'GITHUB_API_URL' | 'TASK_GITHUB_MIN_REMAINING'>,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
    private readonly quotas: GitHubQuotaRepository,
  ) {
    new Gauge({
      name: 'github_rate_limit_remaining',
      help: 'GitHub API requests left in the window, per installation or token (as every replica saw them, from Redis)',
      labelNames: ['account'],
      registers: [metrics.registry],
      async collect() {
        const all = await quotas.all().catch(() => undefined);
        if (!all) return; // Redis away: the last values stand
        this.reset();
        for (const q of all) this.set({ account: q.account }, q.remaining);
      },
    });
  }

  // Runs fn with its GitHub requests at this priority (a task's): below URGENT_PRIORITY they wait
  // for the reset while the quota is under TASK_GITHUB_MIN_REMAINING.
  withPriority<T>(priority: number, fn: () => Promise<T>): Promise<T> {
    return priorityScope.run(priority, fn);
  }

  // What every replica saw of the account's quota; undefined before any answer in this window.
  quota(auth: GitHubAuth): Promise<Quota | undefined> {
    return this.quotas.read(accountOf(auth));
  }

  // Which of REQUIRED_PERMISSIONS the credentials lack on the repository. An installation's
  // grant is exact; a token is checked by what it can do: read the repository (push = contents
  // write), its issues and its pull requests. A fine-grained token's write access to issues and
  // pull requests shows only on first use, where a 403 names the permission.
  async checkAccess(auth: GitHubAuth, repository: string): Promise<{ granted: string[]; missing: string[] }> {
    const [owner, repo] = repository.split('/') as [string, string];
    const octokit = this.client(auth);
    return call(repository, async () => {
      if (auth.kind === 'app') {
        const minted = (await octokit.auth({ type: 'installation' })) as { permissions?: Record<string, string> };
        const granted = minted.permissions ?? {};
        await octokit.repos.get({ owner, repo });
        return compare(granted);
      }
      const found = await octokit.repos.get({ owner, repo });
      const granted: Record<string, string> = { metadata: 'read' };
      if (found.data.permissions?.push) granted['contents'] = 'write';
      const scopes = String(found.headers['x-oauth-scopes'] ?? '');
      if (/\b(public_)?repo\b/.test(scopes)) Object.assign(granted, { contents: 'write', issues: 'write', pull_requests: 'write' });
      else {
        if (await probe(() => octokit.issues.listForRepo({ owner, repo, per_page: 1 }))) granted['issues'] = 'write';
        if (await probe(() => octokit.pulls.list({ owner, repo, per_page: 1 }))) granted['pull_requests'] = 'write';
      }
      return compare(granted);
    });
  }

  // GitHub's own account of the quota (GET /rate_limit is free).
  async rateLimit(auth: GitHubAuth, repository: string): Promise<Quota & { account: string; limit: number; used: number }> {
    const res = await call(repository, () => this.client(auth).rateLimit.get());
    const core = res.data.resources.core;
    return { account: accountOf(auth), limit: core.limit, remaining: core.remaining, used: core.used, resetAt: core.reset * 1000 };
  }

  // Open issues carrying the label, with a conditional request: an unchanged list is a 304 that
  // costs no quota. Pull requests (the issues API lists them too) are left out.
  async openIssuesLabelled(auth: GitHubAuth, repository: string, label: string, etag: string | null): Promise<LabelledIssues> {
    const [owner, repo] = repository.split('/') as [string, string];
    try {
      const res = await this.client(auth).issues.listForRepo({
        owner,
        repo,
        state: 'open',
        labels: label,
        per_page: 100,
        headers: etag ? { 'if-none-match': etag } : {},
      });
      const issues = res.data
        .filter((i) => !i.pull_request)
        .map((i) => ({ number: i.number, title: i.title, labels: i.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))) }));
      return { changed: true, etag: typeof res.headers.etag === 'string' ? res.headers.etag : null, issues };
    } catch (err) {
      if (err instanceof RequestError && err.status === 304) return { changed: false };
      throw toAppError(err, repository);
    }
  }

  // The token git uses for the repository: the project's token, or a fresh installation token
  // (Octokit's auth-app caches it until shortly before it expires).
  async gitToken(auth: GitHubAuth, repository: string): Promise<string> {
    if (auth.kind === 'token') return auth.token;
    const minted = await call(repository, () => this.client(auth).auth({ type: 'installation' }) as Promise<{ token: string }>);
    return minted.token;
  }

  async issue(auth: GitHubAuth, repository: string, issueNumber: number): Promise<{ title: string; body: string; state: string; labels: string[] }> {
    const [owner, repo] = split(repository);
    const res = await call(repository, () => this.client(auth).issues.get({ owner, repo, issue_number: issueNumber }));
    const labels = res.data.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? '')));
    return { title: res.data.title, body: res.data.body ?? '', state: res.data.state, labels };
  }

  async addLabels(auth: GitHubAuth, repository: string, issueNumber: number, labels: string[]): Promise<void> {
    const [owner, repo] = split(repository);
    await call(repository, () => this.client(auth).issues.addLabels({ owner, repo, issue_number: issueNumber, labels }));
  }

  // Idempotent: a label that is not there is no error.
  async removeLabel(auth: GitHubAuth, repository: string, issueNumber: number, name: string): Promise<void> {
    const [owner, repo] = split(repository);
    try {
      await this.client(auth).issues.removeLabel({ owner, repo, issue_number: issueNumber, name });
    } catch (err) {
      if (err instanceof RequestError && err.status === 404) return;
      throw toAppError(err, repository);
    }
  }

  // The first comment on the issue whose body carries the marker (a hidden HTML comment).
  async findComment(auth: GitHubAuth, repository: string, issueNumber: number, marker: string): Promise<{ id: number; url: string } | undefined> {
    const [owner, repo] = split(repository);
    const comments = await call(repository, () =>
      this.client(auth).paginate(this.client(auth).issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 }),
    );
    const found = comments.find((c) => (c.body ?? '').includes(marker));
    return found ? { id: found.id, url: found.html_url } : undefined;
  }

  async createComment(auth: GitHubAuth, repository: string, issueNumber: number, body: string): Promise<{ id: number; url: string }> {
    const [owner, repo] = split(repository);
    const res = await call(repository, () => this.client(auth).issues.createComment({ owner, repo, issue_number: issueNumber, body }));
    return { id: res.data.id, url: res.data.html_url };
  }

  async updateComment(auth: GitHubAuth, repository: string, commentId: number, body: string): Promise<void> {
    const [owner, repo] = split(repository);
    await call(repository, () => this.client(auth).issues.updateComment({ owner, repo, comment_id: commentId, body }));
  }

  // The open pull request from the branch, if there is one.
  async findOpenPull(auth: GitHubAuth, repository: string, branch: string): Promise<{ number: number; url: string; body: string } | undefined> {
    const [owner, repo] = split(repository);
    const res = await call(repository, () => this.client(auth).pulls.list({ owner, repo, head: `${owner}:${branch}`, state: 'open', per_page: 10 }));
    const pull = res.data.find((p) => p.head.ref === branch);
    return pull ? { number: pull.number, url: pull.html_url, body: pull.body ?? '' } : undefined;
  }

  async createDraftPull(
    auth: GitHubAuth,
    repository: string,
    pull: { head: string; base: string; title: string; body: string },
  ): Promise<{ number: number; url: string }> {
    const [owner, repo] = split(repository);
    const res = await call(repository, () => this.client(auth).pulls.create({ owner, repo, ...pull, draft: true }));
    return { number: res.data.number, url: res.data.html_url };
  }

  async updatePull(auth: GitHubAuth, repository: string, pullNumber: number, body: string): Promise<void> {
    const [owner, repo] = split(repository);
    await call(repository, () => this.client(auth).pulls.update({ owner, repo, pull_number: pullNumber, body }));
  }

  // The person's permission on the repository (`admin`, `write`, `read` or `none`; maintain counts as write).
  async collaboratorPermission(auth: GitHubAuth, repository: string, login: string): Promise<string> {
    const [owner, repo] = split(repository);
    try {
      const res = await this.client(auth).repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
      return res.data.permission;
    } catch (err) {
      // Not a collaborator at all.
      if (err instanceof RequestError && err.status === 404) return 'none';
      throw toAppError(err, repository);
    }
  }

  // The review comment (on the pull request) whose body carries the marker, if there is one.
  async findReviewComment(auth: GitHubAuth, repository: string, pullNumber: number, marker: string): Promise<{ id: number } | undefined> {
    const [owner, repo] = split(repository);
    const octokit = this.client(auth);
    const comments = await call(repository, () => octokit.paginate(octokit.pulls.listReviewComments, { owner, repo, pull_number: pullNumber, per_page: 100 }));
    const found = comments.find((c) => (c.body ?? '').includes(marker));
    return found ? { id: found.id } : undefined;
  }

  // A reply in the thread of a review comment.
  async replyToReviewComment(auth: GitHubAuth, repository: string, pullNumber: number, commentId: number, body: string): Promise<{ id: number }> {
    const [owner, repo] = split(repository);
    const octokit = this.client(auth);
    const res = await call(repository, () => octokit.pulls.createReplyForReviewComment({ owner, repo, pull_number: pullNumber, comment_id: commentId, body }));
    return { id: res.data.id };
  }

  // Before a request: refused (nothing sent) while the account is held by a secondary limit, its
  // quota is spent, or it is low and the work is not urgent.
  private async admit(account: string): Promise<void> {
    const priority = priorityScope.getStore() ?? INTERACTIVE_PRIORITY;
    const [held, quota] = await Promise.all([this.quotas.heldUntil(account), this.quotas.read(account)]).catch(() => [undefined, undefined] as const);
    if (held) throw waitFor(`GitHub asked these credentials to slow down (a secondary rate limit)`, held);
    if (!quota || quota.resetAt <= Date.now()) return;
    if (quota.remaining <= 0) throw waitFor(`GitHub's rate limit for these credentials is spent`, quota.resetAt);
    if (priority < URGENT_PRIORITY && quota.remaining < this.env.TASK_GITHUB_MIN_REMAINING) {
      const why = `GitHub quota is low (${quota.remaining} requests left, under ${this.env.TASK_GITHUB_MIN_REMAINING}); work below priority ${URGENT_PRIORITY} waits`;
      throw waitFor(why, quota.resetAt);
    }
  }

  private client(auth: GitHubAuth): Octokit {
    const key = auth.kind === 'app' ? `app:${auth.appId}:${auth.installationId}:${digest(auth.privateKey)}` : `token:${digest(auth.token)}`;
    const existing = this.clients.get(key);
    if (existing) return existing;
    const account = accountOf(auth);
    const throttle = {
      // GitHub paces writes (one a second, notifying ones more) per account: without an id every
      // client of the process would share one queue, and one project's writes would hold all others.
      id: account,
      onRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => retryCount < 1 && retryAfter <= MAX_INTERACTIVE_WAIT_S,
      onSecondaryRateLimit: (retryAfter: number, _o: unknown, _k: unknown, retryCount: number) => retryCount < 2 && retryAfter <= MAX_INTERACTIVE_WAIT_S,
    };
    const common = { baseUrl: this.env.GITHUB_API_URL, userAgent: 'overskill', throttle, retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 451] } };
    const octokit =
      auth.kind === 'app'
        ? new ThrottledOctokit({
            ...common,
            authStrategy: createAppAuth,
            auth: { appId: auth.appId, privateKey: auth.privateKey, installationId: auth.installationId },
          })
        : new ThrottledOctokit({ ...common, auth: auth.token });
    const record = async (headers: Record<string, unknown> | undefined, status?: number) => {
      const remaining = Number(headers?.['x-ratelimit-remaining']);
      if (!headers) return;
      const writes: Array<Promise<void>> = [];
      if (Number.isFinite(remaining)) writes.push(this.quotas.record(account, { remaining, resetAt: Number(headers['x-ratelimit-reset'] ?? 0) * 1000 }));
      const retryAfter = Number(headers['retry-after']);
      if ((status === 403 || status === 429) && retryAfter > 0) writes.push(this.quotas.hold(account, Date.now() + retryAfter * 1000));
      // Redis away: this replica goes on with what GitHub itself says.
      await Promise.all(writes).catch(() => undefined);
    };
    octokit.hook.before('request', async (options) => {
      if (options.url === '/rate_limit') return; // free, and how the quota is looked at
      await this.admit(account);
    });
    octokit.hook.after('request', (response) => record(response.headers));
    octokit.hook.error('request', async (error) => {
      await record((error as RequestError).response?.headers, (error as RequestError).status);
      throw error;
    });
    if (this.clients.size > 1000) this.clients.clear();
    this.clients.set(key, octokit);
    return octokit;
  }
}

function split(repository: string): [string, string] {
  return repository.split('/') as [string, string];
}

function compare(granted: Record<string, string>): { granted: string[]; missing: string[] } {
  const rank = (a: string | undefined) => (a === 'write' || a === 'admin' ? 2 : a === 'read' ? 1 : 0);
  return {
    granted: Object.entries(granted)
      .map(([name, access]) => `${name}=${access}`)
      .sort(),
    missing: Object.entries(REQUIRED_PERMISSIONS)
      .filter(([name, access]) => rank(granted[name]) < rank(access))
      .map(([name, access]) => `${name}=${access}`),
  };
}

// A read that a missing permission refuses with 403.
async function probe(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (err instanceof RequestError && err.status === 403 && err.response?.headers['x-accepted-github-permissions']) return false;
    throw err;
  }
}

async function call<T>(repository: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toAppError(err, repository);
  }
}

export function toAppError(err: unknown, repository: string): AppError {
  if (err instanceof AppError) return err;
  if (!(err instanceof RequestError)) return new AppError(ErrorCode.GITHUB_UNAVAILABLE, `GitHub could not be reached: ${(err as Error).message}`);
  const headers = err.response?.headers ?? {};
  const message = (err.response?.data as { message?: string } | undefined)?.message ?? err.message;
  if (err.status === 401)
    return new AppError(ErrorCode.GITHUB_AUTH_FAILED, `GitHub refused the credentials (${message}); check the token or the app's key and installation`);
  if (err.status === 404) return new AppError(ErrorCode.GITHUB_REPO_NOT_FOUND, `Repository ${repository} does not exist or these credentials cannot see it`);
  if (err.status === 403 && headers['x-accepted-github-permissions']) {
    return new AppError(
      ErrorCode.GITHUB_PERMISSION_MISSING,
      `The credentials lack the permission ${String(headers['x-accepted-github-permissions'])} on ${repository}`,
      { missing: String(headers['x-accepted-github-permissions']) },
    );
  }
  if ((err.status === 403 || err.status === 429) && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'])) {
    const reset = Number(headers['x-ratelimit-reset'] ?? 0);
    const retryAfter = Number(headers['retry-after'] ?? 0);
    const when = retryAfter ? `in ${retryAfter} s` : reset ? `at ${new Date(reset * 1000).toISOString()}` : 'later';
    const retryAt = retryAfter ? Date.now() + retryAfter * 1000 : reset ? reset * 1000 : Date.now() + 60_000;
    return new AppError(ErrorCode.GITHUB_RATE_LIMITED, `GitHub's rate limit for these credentials is spent; try again ${when}`, { retryAt: String(retryAt) });
  }
  return new AppError(ErrorCode.GITHUB_UNAVAILABLE, `GitHub answered ${err.status}: ${message}`);
}

function waitFor(why: string, until: number): AppError {
  return new AppError(ErrorCode.GITHUB_RATE_LIMITED, `${why}; try again at ${new Date(until).toISOString()}`, { retryAt: String(until) });
}

// A metric label and map key that names the account without revealing a token.
function accountOf(auth: GitHubAuth): string {
  return auth.kind === 'app' ? `installation:${auth.installationId}` : `token:${digest(auth.token).slice(0, 12)}`;
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 32);
}

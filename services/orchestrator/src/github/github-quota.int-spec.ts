import { AppError, ErrorCode } from '@overskill/contracts';
import type { ServiceMetrics } from '@overskill/observability';
import { GitHubFake } from '@overskill/testing';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { GitHubQuotaRepository } from './github-quota.repository';
import { GitHubRepository, type GitHubAuth } from './github.repository';

// Two replicas' GitHub clients over the integration stack's real Redis and the GitHub fake: the
// quota one replica saw holds for the other; with 50 requests left, work under priority 75
// waits (nothing reaches GitHub) while urgent work goes on; a secondary limit's retry-after
// stops every request of every replica, urgent ones too, until it has passed.
describe('GitHub quota shared in Redis', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const github = new GitHubFake();
  const connections: Redis[] = [];
  const token = `ghp_${randomUUID().replace(/-/g, '')}`;
  const auth: GitHubAuth = { kind: 'token', token };
  const user = { login: 'quota-bot', id: 77, type: 'User' as const };
  let a: GitHubRepository;
  let b: GitHubRepository;
  const registries: Registry[] = [];

  const replica = () => {
    const redis = new Redis(url);
    connections.push(redis);
    const registry = new Registry();
    registries.push(registry);
    return new GitHubRepository(
      { GITHUB_API_URL: github.url, TASK_GITHUB_MIN_REMAINING: 100 },
      { registry } as unknown as ServiceMetrics,
      new GitHubQuotaRepository(redis),
    );
  };
  const sent = () => github.calls.filter((c) => c.bucket === 'token:quota-bot').length;
  const refusal = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(ErrorCode.GITHUB_RATE_LIMITED);
    return Number((err as AppError).details['retryAt']);
  };

  beforeAll(async () => {
    await github.start();
    github.addRepo('acme', 'quota');
    github.addToken(token, user, { metadata: 'read', issues: 'write', contents: 'write', pull_requests: 'write' });
    github.createIssue('acme/quota', { title: 'One', user });
    a = replica();
    b = replica();
  });

  afterAll(async () => {
    connections.forEach((c) => c.disconnect());
    await github.stop();
  });

  it('keeps low-priority work and polling waiting under the threshold, on every replica, while urgent work goes on', async () => {
    github.setRateLimit('token:quota-bot', 51, 1800);
    // One answer seen by replica a: 50 left.
    await a.issue(auth, 'acme/quota', 1);
    const before = sent();
    const reset = await refusal(b.withPriority(50, () => b.issue(auth, 'acme/quota', 1)));
    expect(Math.abs(reset - github.rateLimit('token:quota-bot').resetAt * 1000)).toBeLessThan(1000);
    await refusal(a.withPriority(0, () => a.openIssuesLabelled(auth, 'acme/quota', 'overskill', null)));
    expect(sent()).toBe(before);
    // Urgent (and people waiting on the API) go on.
    await b.withPriority(100, () => b.issue(auth, 'acme/quota', 1));
    await b.withPriority(75, () => b.addLabels(auth, 'acme/quota', 1, ['urgent']));
    await a.issue(auth, 'acme/quota', 1);
    expect(sent()).toBe(before + 3);
    // The metric is what the replicas saw together, in Redis.
    const metric = await registries[0]!.getSingleMetricAsString('github_rate_limit_remaining');
    expect(metric).toMatch(/github_rate_limit_remaining\{account="token:[0-9a-f]{12}"\} 47/);
    // A new window (GitHub's reset) lets everything through again.
    github.setRateLimit('token:quota-bot', 5000, 3600);
    await b.withPriority(100, () => b.issue(auth, 'acme/quota', 1));
    await b.withPriority(25, () => b.issue(auth, 'acme/quota', 1));
    expect(sent()).toBe(before + 5);
  });

  it("sends nothing, not even urgent work, before a secondary limit's retry-after has passed", async () => {
    github.secondaryLimit(1, 30);
    const started = Date.now();
    const retryAt = await refusal(a.withPriority(100, () => a.addLabels(auth, 'acme/quota', 1, ['high'])));
    expect(retryAt).toBeGreaterThanOrEqual(started + 29_000);
    const before = github.calls.length;
    await refusal(b.withPriority(100, () => b.issue(auth, 'acme/quota', 1)));
    await refusal(a.issue(auth, 'acme/quota', 1));
    await refusal(b.withPriority(0, () => b.openIssuesLabelled(auth, 'acme/quota', 'overskill', null)));
    expect(github.calls.length).toBe(before);
    // GET /rate_limit is free and stays open: it is how an operator looks.
    expect((await b.rateLimit(auth, 'acme/quota')).remaining).toBeGreaterThan(0);
  });
});

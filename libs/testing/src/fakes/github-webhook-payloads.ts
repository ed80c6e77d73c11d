import { createHmac, randomUUID } from 'node:crypto';

// Webhook payloads shaped like GitHub's (the fields of the documented `issues`, `issue_comment`,
// `pull_request_review` and `ping` events that a consumer reads), and their signature.

export interface FakeUser {
  login: string;
  id: number;
  type: 'User' | 'Bot';
}

export interface FakeRepositoryRef {
  id: number;
  owner: string;
  name: string;
}

export interface FakeIssueShape {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  user: FakeUser;
  createdAt: string;
  updatedAt: string;
  pullRequest?: boolean;
}

export function userPayload(user: FakeUser) {
  return {
    login: user.login,
    id: user.id,
    node_id: `U_${user.id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    url: `https://api.github.com/users/${user.login}`,
    html_url: `https://github.com/${user.login}`,
    type: user.type,
    site_admin: false,
  };
}

export function repositoryPayload(repo: FakeRepositoryRef) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: fullName,
    private: true,
    owner: userPayload({ login: repo.owner, id: repo.id + 1_000_000, type: 'User' }),
    html_url: `https://github.com/${fullName}`,
    url: `https://api.github.com/repos/${fullName}`,
    default_branch: 'main',
  };
}

export function labelPayload(name: string) {
  return { id: labelId(name), node_id: `LA_${labelId(name)}`, name, color: 'ededed', default: false, description: null };
}

export function issuePayload(repo: FakeRepositoryRef, issue: FakeIssueShape) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: repo.id * 100_000 + issue.number,
    node_id: `I_${repo.id}_${issue.number}`,
    url: `https://api.github.com/repos/${fullName}/issues/${issue.number}`,
    html_url: `https://github.com/${fullName}/issues/${issue.number}`,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    locked: false,
    user: userPayload(issue.user),
    labels: issue.labels.map(labelPayload),
    assignees: [],
    comments: 0,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: null,
    author_association: 'OWNER',
    ...(issue.pullRequest ? { pull_request: { url: `https://api.github.com/repos/${fullName}/pulls/${issue.number}` } } : {}),
  };
}

export function commentPayload(
  repo: FakeRepositoryRef,
  issueNumber: number,
  comment: { id: number; body: string; user: FakeUser; createdAt: string; updatedAt: string },
) {
  const fullName = `${repo.owner}/${repo.name}`;
  return {
    id: comment.id,
    node_id: `IC_${comment.id}`,
    url: `https://api.github.com/repos/${fullName}/issues/comments/${comment.id}`,
    html_url: `https://github.com/${fullName}/issues/${issueNumber}#issuecomment-${comment.id}`,
    issue_url: `https://api.github.com/repos/${fullName}/issues/${issueNumber}`,
    body: comment.body,
    user: userPayload(comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: 'OWNER',
  };
}

// X-Hub-Signature-256 as GitHub computes it: HMAC-SHA256 of the exact body bytes.
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookDelivery {
  id: string;
  event: string;
  body: string;
  headers: Record<string, string>;
}

export function webhookDelivery(event: string, payload: unknown, secret: string, opts: { id?: string; hookId?: number } = {}): WebhookDelivery {
  const id = opts.id ?? randomUUID();
  const body = JSON.stringify(payload);
  return {
    id,
    event,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/fake',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': String(opts.hookId ?? 1),
      'x-github-hook-installation-target-type': 'repository',
      'x-hub-signature-256': signWebhookBody(secret, body),
    },
  };
}

function labelId(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

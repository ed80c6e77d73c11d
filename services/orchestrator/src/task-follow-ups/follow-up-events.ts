import type { FollowUpSource } from '../persistence/entities';

// A delivery that may continue a task: a comment on the issue (or on the task's pull request), a
// review with a body, or a review comment. What it says is untrusted input.
export interface FollowUpEvent {
  source: FollowUpSource;
  // GitHub's id of the comment or review: a redelivery (any delivery id) records it once.
  sourceId: string;
  author: string;
  // Written by a bot or by this platform (its posts carry a hidden marker): never a follow-up.
  own: boolean;
  body: string;
  issueNumber?: number;
  pullNumber?: number;
  reviewCommentId?: string;
}

export const OWN_MARKER = '<!-- overskill:';
const BODY_MAX = 20_000;

interface User {
  login?: string;
  type?: string;
}

interface Payload {
  issue?: { number?: number; pull_request?: unknown };
  comment?: { id?: number; body?: string | null; user?: User; path?: string; line?: number | null; original_line?: number | null };
  review?: { id?: number; body?: string | null; user?: User; state?: string };
  pull_request?: { number?: number };
}

export function followUpOf(event: string, action: string, payload: Record<string, unknown>): FollowUpEvent | undefined {
  const p = payload as Payload;
  if (event === 'issue_comment' && action === 'created') {
    const c = p.comment;
    const number = p.issue?.number;
    if (!c || typeof c.id !== 'number' || typeof number !== 'number') return undefined;
    const onPull = !!p.issue?.pull_request;
    return make('issue_comment', c.id, c.user, c.body, onPull ? { pullNumber: number } : { issueNumber: number });
  }
  if (event === 'pull_request_review' && action === 'submitted') {
    const r = p.review;
    const number = p.pull_request?.number;
    // A review's line comments come as review comments of their own; an empty review body adds nothing.
    if (!r || typeof r.id !== 'number' || typeof number !== 'number' || !(r.body ?? '').trim()) return undefined;
    return make('review', r.id, r.user, `(review, ${String(r.state ?? 'commented').toLowerCase()}) ${r.body ?? ''}`, { pullNumber: number });
  }
  if (event === 'pull_request_review_comment' && action === 'created') {
    const c = p.comment;
    const number = p.pull_request?.number;
    if (!c || typeof c.id !== 'number' || typeof number !== 'number') return undefined;
    const line = c.line ?? c.original_line;
    const where = c.path ? `(on \`${c.path}\`${line ? ` line ${line}` : ''}) ` : '';
    return make('review_comment', c.id, c.user, `${where}${c.body ?? ''}`, { pullNumber: number, reviewCommentId: String(c.id) });
  }
  return undefined;
}

function make(source: FollowUpSource, id: number, user: User | undefined, body: string | null | undefined, where: Partial<FollowUpEvent>): FollowUpEvent {
  const text = String(body ?? '');
  return {
    source,
    sourceId: String(id),
    author: String(user?.login ?? '').slice(0, 100),
    own: user?.type === 'Bot' || text.includes(OWN_MARKER),
    body: text.length > BODY_MAX ? `${text.slice(0, BODY_MAX)}\n[… cut at ${BODY_MAX} characters]` : text,
    ...where,
  };
}

// The agent asked instead of answering: its last line is a question.
export function asksQuestion(reply: string): boolean {
  const last =
    reply
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? '';
  return /\?[\s*_`)"']*$/.test(last);
}

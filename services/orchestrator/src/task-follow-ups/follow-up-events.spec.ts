import { asksQuestion, followUpOf } from './follow-up-events';

// Which deliveries continue a task, and what they carry.
describe('followUpOf', () => {
  const alice = { login: 'alice', type: 'User' };

  it('reads a comment on the issue, one on the pull request, a review and a review comment', () => {
    expect(followUpOf('issue_comment', 'created', { issue: { number: 4 }, comment: { id: 10, body: 'Also the header', user: alice } })).toEqual({
      source: 'issue_comment',
      sourceId: '10',
      author: 'alice',
      own: false,
      body: 'Also the header',
      issueNumber: 4,
    });
    expect(followUpOf('issue_comment', 'created', { issue: { number: 9, pull_request: {} }, comment: { id: 11, body: 'x', user: alice } })).toMatchObject({
      pullNumber: 9,
    });
    expect(
      followUpOf('pull_request_review', 'submitted', {
        pull_request: { number: 9 },
        review: { id: 12, body: 'Nearly', state: 'CHANGES_REQUESTED', user: alice },
      }),
    ).toMatchObject({
      source: 'review',
      body: '(review, changes_requested) Nearly',
      pullNumber: 9,
    });
    expect(
      followUpOf('pull_request_review_comment', 'created', {
        pull_request: { number: 9 },
        comment: { id: 13, body: 'rename', path: 'a.ts', line: 3, user: alice },
      }),
    ).toMatchObject({
      source: 'review_comment',
      body: '(on `a.ts` line 3) rename',
      reviewCommentId: '13',
    });
  });

  it('marks our own posts and bots, and ignores what cannot continue a task', () => {
    expect(
      followUpOf('issue_comment', 'created', { issue: { number: 4 }, comment: { id: 10, body: '<!-- overskill:task-status:t -->\nDone', user: alice } })?.own,
    ).toBe(true);
    expect(
      followUpOf('issue_comment', 'created', { issue: { number: 4 }, comment: { id: 10, body: 'hi', user: { login: 'ci[bot]', type: 'Bot' } } })?.own,
    ).toBe(true);
    expect(followUpOf('issue_comment', 'edited', { issue: { number: 4 }, comment: { id: 10, body: 'x', user: alice } })).toBeUndefined();
    expect(
      followUpOf('pull_request_review', 'submitted', { pull_request: { number: 9 }, review: { id: 12, body: '  ', state: 'approved', user: alice } }),
    ).toBeUndefined();
    expect(followUpOf('issue_comment', 'created', { issue: { number: '4' }, comment: { id: 10, body: 'x' } })).toBeUndefined();
    expect(followUpOf('issues', 'labeled', {})).toBeUndefined();
    expect(
      followUpOf('issue_comment', 'created', { issue: { number: 4 }, comment: { id: 10, body: 'z'.repeat(30_000), user: alice } })?.body.length,
    ).toBeLessThan(20_100);
  });
});

describe('asksQuestion', () => {
  it('is a question when the last line ends with one', () => {
    expect(asksQuestion('I looked.\n\nWhich colour should it be?')).toBe(true);
    expect(asksQuestion('Should it be **red**?  \n')).toBe(true);
    expect(asksQuestion('Why? Because the page had none. Added it.')).toBe(false);
    expect(asksQuestion('')).toBe(false);
  });
});

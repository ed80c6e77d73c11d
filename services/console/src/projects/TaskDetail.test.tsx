import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '../api/types';
import { controllableStream, json, mockFetch, renderSignedIn, session, sse } from '../test-utils';
import { TaskDetail } from './TaskDetail';
import { PROJECT_ID, projectFixture, taskFixture } from './project-fixtures';
import { answerLink, taskActions } from './project-model';

afterEach(() => vi.unstubAllGlobals());

const PID = PROJECT_ID;
const project = projectFixture;
const task = (overrides: Partial<Task>): Task => taskFixture(12, { title: 'Checkout is broken', priority: 100, ...overrides });
const TID = task({}).id;
const RID = '55555555-5555-4555-8555-000000000001';
const run = (status: string, steps: Array<{ seq: number; kind: string }>) => ({
  id: RID,
  appId: 'a1',
  status,
  error: null,
  commitSha: 'abcdef0123456789',
  iterations: 2,
  inputTokens: 900,
  outputTokens: 120,
  costUsd: 0.004,
  createdAt: '2026-03-01T00:00:00Z',
  finishedAt: null,
  steps: steps.map((s) => ({ ...s, summary: `${s.kind} ${s.seq}`, createdAt: '2026-03-01T00:00:00Z' })),
});

function routes(role: Parameters<typeof session>[0], t: Task, extra = {}, sessionOverrides = {}) {
  return {
    'GET /api/session': () => json(session(role, sessionOverrides)),
    [`GET /api/tasks/${TID}`]: () => json(t),
    [`GET /api/projects/${PID}`]: () => json(project),
    ...extra,
  };
}

describe('task logic', () => {
  it('links only an http(s) answer, naming the pull request when there is one', () => {
    expect(answerLink({ answerUrl: 'https://github.com/acme/shop/pull/7', pullNumber: 7 })).toEqual({
      href: 'https://github.com/acme/shop/pull/7',
      label: 'Pull request #7',
    });
    expect(answerLink({ answerUrl: 'https://github.com/acme/shop/issues/12#issuecomment-9', pullNumber: null })?.label).toBe('Comment on the issue');
    expect(answerLink({ answerUrl: 'javascript:alert(1)', pullNumber: 7 })).toBeNull();
    expect(answerLink({ answerUrl: 'not a url', pullNumber: null })).toBeNull();
    expect(answerLink({ answerUrl: null, pullNumber: null })).toBeNull();
  });

  it('offers cancel while queued or running and retry once failed or cancelled', () => {
    expect(taskActions('queued')).toEqual({ canCancel: true, canRetry: false });
    expect(taskActions('running')).toEqual({ canCancel: true, canRetry: false });
    expect(taskActions('failed')).toEqual({ canCancel: false, canRetry: true });
    expect(taskActions('cancelled')).toEqual({ canCancel: false, canRetry: true });
    expect(taskActions('completed')).toEqual({ canCancel: false, canRetry: false });
    expect(taskActions('awaiting_response')).toEqual({ canCancel: false, canRetry: false });
  });
});

describe('<TaskDetail>', () => {
  it("shows a completed task's pull request, attempts and its run's steps; a viewer gets no action", async () => {
    const t = task({ status: 'completed', runId: RID, pullNumber: 7, answerUrl: 'https://github.com/acme/shop/pull/7', attempts: 2 });
    const { calls } = mockFetch(
      routes('viewer', t, {
        [`GET /api/runs/${RID}`]: () =>
          json(
            run('completed', [
              { seq: 1, kind: 'run_started' },
              { seq: 2, kind: 'commit' },
              { seq: 3, kind: 'run_completed' },
            ]),
          ),
      }),
    );
    renderSignedIn(<TaskDetail taskId={TID} />);
    const pr = await screen.findByRole('link', { name: 'Pull request #7' });
    expect(pr.getAttribute('href')).toBe('https://github.com/acme/shop/pull/7');
    const steps = await screen.findByTestId('run-steps');
    expect(
      within(steps)
        .getAllByRole('listitem')
        .map((li) => li.getAttribute('data-seq')),
    ).toEqual(['1', '2', '3']);
    expect(screen.getByText(/commit/, { selector: 'p' }).textContent).toContain('abcdef012345');
    expect(screen.getByText('2', { selector: 'dd' })).toBeTruthy();
    await screen.findByText('urgent (100)');
    expect(screen.queryByRole('button', { name: /Cancel|Retry/ })).toBeNull();
    // A finished run is not streamed.
    expect(calls.some((c) => c.path.endsWith('/events'))).toBe(false);
  });

  it("streams a running task's run, refreshes the task when the run ends, and cancels after a confirmation", async () => {
    const stream = controllableStream();
    let current = task({ status: 'running', runId: RID, attempts: 1 });
    const { calls } = mockFetch(
      routes('member', current, {
        [`GET /api/tasks/${TID}`]: () => json(current),
        [`GET /api/runs/${RID}`]: () => json(run('running', [{ seq: 1, kind: 'run_started' }])),
        [`GET /api/runs/${RID}/events`]: () => stream.response,
        [`POST /api/tasks/${TID}/cancel`]: () => {
          current = { ...current, status: 'cancelled' };
          return json(current);
        },
      }),
    );
    renderSignedIn(<TaskDetail taskId={TID} />);
    const steps = await screen.findByTestId('run-steps');
    // The task has its own cancel: the run's is not offered twice.
    expect(screen.queryByRole('button', { name: 'Cancel run' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Retry task' })).toBeNull();
    await waitFor(() => expect(calls.some((c) => c.path.endsWith('/events'))).toBe(true));
    stream.send(sse(2, 'model_call'));
    await within(steps).findByText('model_call 2');
    const taskReads = () => calls.filter((c) => c.method === 'GET' && c.path === `/api/tasks/${TID}`).length;
    const before = taskReads();
    stream.send(sse(3, 'run_completed', 'completed'));
    await waitFor(() => expect(taskReads()).toBeGreaterThan(before));

    fireEvent.click(screen.getByRole('button', { name: 'Cancel task' }));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel this task?' });
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel task' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.path).toBe(`/api/tasks/${TID}/cancel`);
    expect((post.init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-token');
    expect(await screen.findByText('Cancelled', { selector: '.badge' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Retry task' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
  });

  it("shows a failed task's reason, and a refused retry with the API's message and correlation id", async () => {
    const t = task({ status: 'failed', errorCode: 'GIT_PUSH_REJECTED', errorMessage: 'The push to overskill/issue-12 was refused', attempts: 1 });
    const { calls } = mockFetch(
      routes('member', t, {
        [`POST /api/tasks/${TID}/retry`]: () =>
          json({ code: 'TASK_NOT_RETRYABLE', message: 'Issue #12 has another active task', correlationId: 'corr-409' }, 409),
      }),
    );
    renderSignedIn(<TaskDetail taskId={TID} />);
    expect((await screen.findByTestId('task-failure')).textContent).toBe('GIT_PUSH_REJECTED: The push to overskill/issue-12 was refused');
    expect(screen.getByText('No run.')).toBeTruthy();
    expect(screen.getByText('none yet')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel task' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Retry task' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('TASK_NOT_RETRYABLE');
    expect(alert.textContent).toContain('Issue #12 has another active task');
    expect(within(alert).getByText('corr-409')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual([`/api/tasks/${TID}/retry`]);
  });

  it('offers no action to a member key without projects:write, and shows a queued task waiting for a worker', async () => {
    mockFetch(routes('member', task({ status: 'queued' }), {}, { scopes: ['projects:read', 'runs:read'] }));
    renderSignedIn(<TaskDetail taskId={TID} />);
    await screen.findByText('No run yet: the task waits for a worker.');
    expect(screen.queryByRole('button', { name: /Cancel|Retry/ })).toBeNull();
  });

  it('shows a refused cancel inside the confirmation, and keeps the task as it was', async () => {
    mockFetch(
      routes('admin', task({ status: 'queued' }), {
        [`POST /api/tasks/${TID}/cancel`]: () => json({ code: 'TASK_NOT_FOUND', message: 'No task with this id', correlationId: 'corr-404' }, 404),
      }),
    );
    renderSignedIn(<TaskDetail taskId={TID} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel task' }));
    const dialog = await screen.findByRole('dialog', { name: 'Cancel this task?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel task' }));
    expect(await within(dialog).findByText('corr-404')).toBeTruthy();
    expect(screen.getByText('Queued', { selector: '.badge' })).toBeTruthy();
  });
});

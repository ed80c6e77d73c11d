import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '../api/types';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { ProjectDetail } from './ProjectDetail';
import { ProjectsScreen } from './ProjectsScreen';
import { TaskDetail } from './TaskDetail';
import { PROJECT_ID, projectFixture, taskFixture } from './project-fixtures';
import { groupTasks, updateBody, formValues } from './project-model';

afterEach(() => vi.unstubAllGlobals());

const PID = PROJECT_ID;
const project = projectFixture;
let n = 0;
const task = (status: Task['status'], priority: number, createdAt = '2026-03-01T00:00:00Z'): Task =>
  taskFixture(++n, { status, priority, createdAt, updatedAt: createdAt });

describe('project and task logic', () => {
  it('groups tasks by state, running first, each highest priority then oldest first', () => {
    const a = task('queued', 50, '2026-03-01T00:00:00Z');
    const b = task('queued', 100, '2026-03-02T00:00:00Z');
    const c = task('running', 50);
    const d = task('queued', 50, '2026-02-01T00:00:00Z');
    expect(groupTasks([a, b, c, d]).map((g) => [g.status, g.tasks.map((t) => t.id)])).toEqual([
      ['running', [c.id]],
      ['queued', [b.id, d.id, a.id]],
    ]);
  });

  it('sends only what changed on edit, and a secret only when a new one is typed', () => {
    const v = formValues(project);
    expect(v.token).toBe('');
    expect(updateBody(project, v)).toEqual({});
    expect(updateBody(project, { ...v, concurrency: '4', token: 'ghp_new' })).toEqual({ concurrency: 4, token: 'ghp_new' });
    expect(updateBody({ ...project, auth: { kind: 'app', appId: 1, installationId: 2 } }, { ...v, token: 'ignored', privateKey: 'PEM' })).toEqual({
      privateKey: 'PEM',
    });
  });
});

describe('<ProjectsScreen>', () => {
  const routes = (role: Parameters<typeof session>[0], extra = {}) => ({
    'GET /api/session': () => json(session(role)),
    'GET /api/projects': () => json({ data: [project], nextCursor: null }),
    'GET /api/tasks/running': () => json({ data: [task('queued', 50), task('running', 100), task('queued', 100)] }),
    ...extra,
  });

  it('shows the queue by state and priority, and the projects; a viewer gets no write action', async () => {
    mockFetch(routes('viewer'));
    renderSignedIn(<ProjectsScreen />);
    const running = await screen.findByRole('grid', { name: 'Queue: Running' });
    expect(within(running).getAllByRole('row')).toHaveLength(2);
    const queued = screen.getByRole('grid', { name: 'Queue: Queued' });
    expect(
      within(queued)
        .getAllByRole('gridcell')
        .map((c) => c.textContent),
    ).toContain('urgent (100)');
    expect(within(queued).getAllByRole('row')[1]!.textContent).toContain('urgent (100)');
    expect(await screen.findByRole('link', { name: 'acme/shop' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'New project' })).toBeNull();
  });

  it('shows empty states', async () => {
    mockFetch(routes('admin', { 'GET /api/projects': () => json({ data: [], nextCursor: null }), 'GET /api/tasks/running': () => json({ data: [] }) }));
    renderSignedIn(<ProjectsScreen />);
    expect(await screen.findByText('No task is queued or running.')).toBeTruthy();
    expect(await screen.findByText(/No projects yet/)).toBeTruthy();
  });

  it('creates a project with the CSRF token, and shows a missing permission as the API names it', async () => {
    const { calls } = mockFetch(
      routes('admin', {
        'POST /api/projects': () =>
          json({ code: 'GITHUB_PERMISSION_MISSING', message: 'The token lacks pull_requests=write on acme/shop', correlationId: 'corr-perm' }, 422),
      }),
    );
    renderSignedIn(<ProjectsScreen />);
    fireEvent.click(await screen.findByRole('button', { name: 'New project' }));
    fireEvent.change(screen.getByLabelText('Repository (owner/name)'), { target: { value: 'acme/shop' } });
    fireEvent.change(screen.getByLabelText('Token'), { target: { value: 'ghp_secret' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add project' }));
    expect(await screen.findByText(/lacks pull_requests=write/)).toBeTruthy();
    expect(screen.getByText('corr-perm')).toBeTruthy();
    const post = calls.find((c) => c.method === 'POST')!;
    expect((post.init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-token');
    expect(JSON.parse(String(post.init.body))).toEqual({
      repository: 'acme/shop',
      auth: { kind: 'token', token: 'ghp_secret' },
      baseBranch: 'main',
      answerMode: 'auto',
      concurrency: 2,
      labels: { trigger: 'overskill' },
    });
    // The secret field is a password field: never shown in the clear.
    expect(screen.getByLabelText('Token').getAttribute('type')).toBe('password');
  });
});

describe('<ProjectDetail>', () => {
  it('shows settings without secrets, filters tasks by state, edits and deletes for an admin', async () => {
    const tasks = [task('completed', 50), task('failed', 100), task('queued', 50)];
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('admin')),
      [`GET /api/projects/${PID}`]: () => json(project),
      [`GET /api/projects/${PID}/tasks`]: () => json({ data: tasks, nextCursor: null }),
      [`PATCH /api/projects/${PID}`]: (_u, init) => json({ ...project, ...JSON.parse(String(init.body)) }),
    });
    renderSignedIn(<ProjectDetail projectId={PID} />);
    expect(await screen.findByRole('heading', { name: 'acme/shop' })).toBeTruthy();
    expect(screen.getByText('a token (never shown)')).toBeTruthy();
    await screen.findByRole('grid', { name: 'Tasks: Failed' });
    fireEvent.change(screen.getByLabelText('State'), { target: { value: 'queued' } });
    expect(screen.queryByRole('grid', { name: 'Tasks: Failed' })).toBeNull();
    expect(screen.getByRole('grid', { name: 'Tasks: Queued' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('State'), { target: { value: 'running' } });
    expect(screen.getByText('No running tasks.')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Edit' }));
    expect((screen.getByLabelText(/New token/) as HTMLInputElement).value).toBe('');
    fireEvent.change(screen.getByLabelText('Tasks at once'), { target: { value: '5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(JSON.parse(String(calls.find((c) => c.method === 'PATCH')!.init.body))).toEqual({ concurrency: 5 });
    expect(screen.getByRole('button', { name: 'Delete' })).toBeTruthy();
  });

  it('offers a viewer no edit or delete, and shows a missing project as the API says', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      [`GET /api/projects/${PID}`]: () => json({ code: 'PROJECT_NOT_FOUND', message: 'No project with this id', correlationId: 'corr-404' }, 404),
      [`GET /api/projects/${PID}/tasks`]: () => json({ code: 'PROJECT_NOT_FOUND', message: 'No project with this id', correlationId: 'corr-404' }, 404),
    });
    renderSignedIn(<ProjectDetail projectId={PID} />);
    expect((await screen.findAllByText(/No project with this id/)).length).toBeGreaterThan(0);
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });
});

describe('<TaskDetail>', () => {
  it('shows the task with its priority name and its issue link', async () => {
    const t = task('running', 100);
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      [`GET /api/tasks/${t.id}`]: () => json(t),
      [`GET /api/projects/${PID}`]: () => json(project),
    });
    renderSignedIn(<TaskDetail taskId={t.id} />);
    expect(await screen.findByRole('heading', { name: `#${t.issueNumber} ${t.title}` })).toBeTruthy();
    await screen.findByText('urgent (100)');
    expect(screen.getByRole('link', { name: `acme/shop#${t.issueNumber}` }).getAttribute('href')).toBe(`https://github.com/acme/shop/issues/${t.issueNumber}`);
  });
});

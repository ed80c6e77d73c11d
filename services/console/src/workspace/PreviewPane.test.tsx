import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { PreviewPane } from './PreviewPane';

afterEach(() => vi.unstubAllGlobals());

const sha = 'a'.repeat(40);
const preview = (overrides: Record<string, unknown> = {}) => ({
  appId: 'a1',
  previewId: 'p1',
  url: 'http://p1.preview.localhost:3000/',
  mode: 'static',
  state: 'running',
  reason: null,
  lastCheck: {
    sha,
    outcome: 'failed',
    consoleErrors: ['TypeError: x is undefined'],
    pageErrors: ['ReferenceError: foo is not defined\n    at main.js:3:7'],
    failedRequests: ['GET /api/data 500'],
    blank: true,
    loadMs: 412.4,
    screenshotUrl: `/api/apps/a1/versions/${sha}/screenshot`,
    reason: null,
    checkedAt: '2026-12-04T10:00:00.000Z',
  },
  ...overrides,
});
const entries = [
  { source: 'console', level: 'info', message: 'older entry', location: null, pageUrl: '/', occurredAt: '2026-12-04T10:00:00.000Z' },
  { source: 'network', level: 'error', message: 'GET /api/data 500', location: null, pageUrl: '/', occurredAt: '2026-12-04T10:00:02.000Z' },
  { source: 'console', level: 'warn', message: 'newest entry', location: 'main.js:1:1', pageUrl: '/', occurredAt: '2026-12-04T10:00:05.000Z' },
];

describe('<PreviewPane>', () => {
  it('shows the state with its reason, the last check with its findings and screenshot, and no actions for a viewer', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/preview': () => json(preview({ state: 'crashed', reason: 'npm run dev exited with code 1' })),
      'GET /api/apps/a1/preview/logs': () => json({ entries: [] }),
    });
    renderSignedIn(<PreviewPane appId="a1" />);
    const state = await screen.findByTestId('preview-state');
    expect(state.textContent).toContain('crashed');
    expect(state.textContent).toContain('npm run dev exited with code 1');
    const check = screen.getByTestId('preview-check');
    expect(within(check).getByText('failed')).toBeTruthy();
    expect(check.textContent).toContain('aaaaaaa');
    expect(check.textContent).toContain('loaded in 412 ms');
    expect(check.textContent).toContain('the page was blank');
    expect(within(check).getByText('Console errors: 1')).toBeTruthy();
    expect(within(check).getByText('TypeError: x is undefined')).toBeTruthy();
    expect(within(check).getByText(/ReferenceError: foo is not defined/)).toBeTruthy();
    expect(within(check).getByText('Failed requests: 1')).toBeTruthy();
    const shot = within(check).getByRole('img') as HTMLImageElement;
    expect(shot.getAttribute('src')).toBe(`/api/apps/a1/versions/${sha}/screenshot`);
    expect(shot.getAttribute('alt')).toContain('aaaaaaa');
    await screen.findByText('Nothing logged yet.');
    expect(screen.queryByRole('button', { name: 'Restart' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'New link' })).toBeNull();
  });

  it('says when no check has run yet, and when the check could not run', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/preview': () => json(preview({ lastCheck: null })),
      'GET /api/apps/a1/preview/logs': () => json({ entries: [] }),
    });
    renderSignedIn(<PreviewPane appId="a1" />);
    await screen.findByText('No headless check yet: one runs after each agent turn.');
  });

  it('lists the logs newest first and sends the level and source filters', async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/preview': () => json(preview()),
      'GET /api/apps/a1/preview/logs': (url) =>
        json({ entries: url.searchParams.get('level') === 'error' ? entries.filter((e) => e.level === 'error') : entries }),
    });
    renderSignedIn(<PreviewPane appId="a1" />);
    const log = await screen.findByRole('list', { name: 'Preview log, newest first' });
    const items = within(log).getAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual([
      expect.stringContaining('newest entry'),
      expect.stringContaining('GET /api/data 500'),
      expect.stringContaining('older entry'),
    ]);
    expect(items[0]!.textContent).toContain('main.js:1:1');
    fireEvent.change(screen.getByLabelText('Level'), { target: { value: 'error' } });
    fireEvent.change(screen.getByLabelText('Source'), { target: { value: 'network' } });
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Preview log, newest first' })).getAllByRole('listitem')).toHaveLength(1));
    const last = calls.filter((c) => c.path === '/api/apps/a1/preview/logs').at(-1)!;
    expect(last.url.searchParams.get('level')).toBe('error');
    expect(last.url.searchParams.get('source')).toBe('network');
  });

  it('shows the API error of the logs route', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/preview': () => json(preview()),
      'GET /api/apps/a1/preview/logs': () => json({ code: 'INTERNAL', message: 'the log store is down', correlationId: 'c-42' }, 503),
    });
    renderSignedIn(<PreviewPane appId="a1" />);
    await screen.findByText(/the log store is down/);
    expect(screen.getByText('c-42')).toBeTruthy();
  });

  it('lets a member restart the preview and rotate its link, with the CSRF token, and shows the new link', async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('member')),
      'GET /api/apps/a1/preview': () => json(preview()),
      'GET /api/apps/a1/preview/logs': () => json({ entries: [] }),
      'POST /api/apps/a1/preview/restart': () => json(preview({ state: 'starting' })),
      'POST /api/apps/a1/preview/rotate': () => json(preview({ previewId: 'p2', url: 'http://p2.preview.localhost:3000/' })),
    });
    renderSignedIn(<PreviewPane appId="a1" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Restart' }));
    await waitFor(() => expect(screen.getByTestId('preview-state').textContent).toContain('starting'));
    fireEvent.click(screen.getByRole('button', { name: 'New link' }));
    await waitFor(() => expect(screen.getByTitle('App preview').getAttribute('src')).toBe('http://p2.preview.localhost:3000/'));
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.path)).toEqual(['/api/apps/a1/preview/restart', '/api/apps/a1/preview/rotate']);
    expect(posts.every((c) => (c.init.headers as Record<string, string>)['x-csrf-token'] === 'csrf-token')).toBe(true);
  });
});

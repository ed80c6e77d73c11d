import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { ChatPanel } from './ChatPanel';
import { PreviewPane } from './PreviewPane';

afterEach(() => vi.unstubAllGlobals());

const messages = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `m${i}`,
    role: i % 2 ? 'assistant' : 'user',
    content: `message ${i}`,
    authorId: null,
    runId: null,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  }));

describe('<ChatPanel>', () => {
  it('keeps a 2,000-message conversation to a few dozen nodes, oldest first', async () => {
    mockFetch({
      'GET /api/session': () => json(session('member')),
      'GET /api/apps/a1/messages': () => json({ data: messages(2000).reverse(), nextCursor: null }),
      'GET /api/apps/a1/runs': () => json({ data: [], nextCursor: null }),
    });
    renderSignedIn(<ChatPanel appId="a1" />);
    const log = await screen.findByRole('log', { name: 'Messages' });
    const rendered = log.querySelectorAll('.message');
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThanOrEqual(40);
    expect(within(log).getByText('message 0')).toBeTruthy();
  });

  it('sends with Ctrl+Enter, with the CSRF token, and then follows the new run', async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('member')),
      'GET /api/apps/a1/messages': () => json({ data: [], nextCursor: null }),
      'GET /api/apps/a1/runs': () => json({ data: [], nextCursor: null }),
      'POST /api/apps/a1/messages': () => json({ messageId: 'm1', runId: 'r9', runUrl: '/api/runs/r9', eventsUrl: '/api/runs/r9/events' }, 202),
      'GET /api/runs/r9': () =>
        json({
          id: 'r9',
          appId: 'a1',
          status: 'completed',
          error: null,
          commitSha: null,
          iterations: 0,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
          createdAt: '',
          finishedAt: '',
          steps: [],
        }),
    });
    renderSignedIn(<ChatPanel appId="a1" />);
    const box = await screen.findByLabelText('Message to the agent');
    fireEvent.change(box, { target: { value: 'Add a dark mode' } });
    fireEvent.keyDown(box, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(calls.some((c) => c.path === '/api/runs/r9')).toBe(true));
    const post = calls.find((c) => c.method === 'POST')!;
    expect(JSON.parse(String(post.init.body))).toEqual({ content: 'Add a dark mode' });
    expect((post.init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-token');
    await waitFor(() => expect((box as HTMLTextAreaElement).value).toBe(''));
  });
});

describe('<PreviewPane>', () => {
  it('says "no preview yet" while the preview route is absent (404)', async () => {
    mockFetch({ 'GET /api/session': () => json(session('viewer')) });
    renderSignedIn(<PreviewPane appId="a1" />);
    await screen.findByTestId('no-preview');
  });

  it('shows the state and a sandboxed frame once the route answers', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/preview': () => json({ url: 'http://a1.preview.localhost:3000/', state: 'running', lastCheck: null }),
    });
    renderSignedIn(<PreviewPane appId="a1" />);
    const frame = (await screen.findByTitle('App preview')) as HTMLIFrameElement;
    expect(frame.getAttribute('sandbox')).toBe('allow-scripts allow-forms');
    expect(screen.getByText('running')).toBeTruthy();
  });
});

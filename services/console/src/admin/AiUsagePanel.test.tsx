import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { AiUsagePanel } from './AiUsagePanel';

afterEach(() => vi.unstubAllGlobals());

const status = {
  activeAlias: 'sonnet',
  aliases: [
    { alias: 'sonnet', provider: 'anthropic', model: 'claude-sonnet' },
    { alias: 'haiku', provider: 'anthropic', model: 'claude-haiku' },
  ],
  breakers: [{ model: 'claude-sonnet', state: 'closed', consecutiveFailures: 0, openedAt: null }],
  config: { source: 'env', loadedAt: '', priceTableVersion: '1' },
};
const t = (requests: number, costUsd: number) => ({
  requests,
  inputTokens: requests * 100,
  outputTokens: requests * 10,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd,
});
const APP_A = '11111111-1111-4111-8111-111111111111';
const usage = (url: URL) => {
  const from = url.searchParams.get('from')!;
  const to = url.searchParams.get('to')!;
  const days: Array<{ day: string } & ReturnType<typeof t>> = [];
  for (let d = Date.parse(from); d <= Date.parse(to); d += 86_400_000) days.push({ day: new Date(d).toISOString().slice(0, 10), ...t(0, 0) });
  days[days.length - 1] = { day: to, ...t(3, 1.5) };
  return json({
    from,
    to,
    totals: t(3, 1.5),
    days,
    apps: [
      { appId: APP_A, ...t(2, 1.25) },
      { appId: null, ...t(1, 0.25) },
    ],
    cells: [
      { day: to, appId: APP_A, ...t(2, 1.25) },
      { day: to, appId: null, ...t(1, 0.25) },
    ],
  });
};
const apps = () =>
  json({ data: [{ id: APP_A, name: 'Shop', description: '', template: 'empty', maxIterations: 5, createdAt: '', updatedAt: '' }], nextCursor: null });

describe('<AiUsagePanel>', () => {
  it('shows seven days of usage and offers the model switch to an operator team owner only', async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('owner', { operator: true })),
      'GET /api/admin/ai/usage/daily': usage,
      'GET /api/apps': apps,
      'GET /api/admin/ai/status': () => json(status),
      'POST /api/admin/ai/model': () => json({ activeAlias: 'haiku', previousAlias: 'sonnet' }),
    });
    renderSignedIn(<AiUsagePanel />);
    await screen.findByText('sonnet');
    const byDay = await screen.findByRole('grid', { name: 'AI usage by day' });
    expect(within(byDay).getAllByRole('row')).toHaveLength(8);
    fireEvent.change(screen.getByLabelText('Switch every replica to'), { target: { value: 'haiku' } });
    fireEvent.click(screen.getByRole('button', { name: 'Switch model' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(JSON.parse(String(calls.find((c) => c.method === 'POST')!.init.body))).toEqual({ alias: 'haiku' });
  });

  it.each([
    ['an owner of another team', session('owner', { operator: false })],
    ['an admin of an operator team', session('admin', { operator: true })],
  ])('has no model switch for %s', async (_who, s) => {
    mockFetch({
      'GET /api/session': () => json(s),
      'GET /api/admin/ai/usage/daily': usage,
      'GET /api/apps': apps,
      'GET /api/admin/ai/status': () => json(status),
    });
    renderSignedIn(<AiUsagePanel />);
    await screen.findByText('Only owners of an operator team may switch the model.');
    expect(screen.queryByRole('button', { name: 'Switch model' })).toBeNull();
  });

  it('shows usage by app with app names, one app by day, and a longer range on request', { timeout: 15_000 }, async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('admin')),
      'GET /api/admin/ai/usage/daily': usage,
      'GET /api/apps': apps,
      'GET /api/admin/ai/status': () => json(status),
    });
    renderSignedIn(<AiUsagePanel />);
    const byApp = await screen.findByRole('grid', { name: 'AI usage by app' });
    await waitFor(() => expect(within(byApp).getByRole('rowheader', { name: 'Shop' })).toBeTruthy());
    expect(within(byApp).getByRole('rowheader', { name: 'Outside an app (API)' })).toBeTruthy();
    expect(within(byApp).getAllByRole('row')[1]!.textContent).toContain('1.2500');
    expect(calls.find((c) => c.path === '/api/admin/ai/usage/daily')!.url.searchParams.get('from')).toBe(
      new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10),
    );

    // One app: its own figures per day, zeros on the days it made no call.
    fireEvent.change(screen.getByLabelText('App'), { target: { value: 'none' } });
    const byDay = screen.getByRole('grid', { name: 'AI usage by day' });
    const last = within(byDay).getAllByRole('row').at(-1)!;
    expect(last.textContent).toContain('0.2500');
    expect(within(byDay).getAllByRole('row')[1]!.textContent).toContain('0.0000');

    fireEvent.change(screen.getByLabelText('Range'), { target: { value: '30' } });
    await waitFor(() => expect(within(screen.getByRole('grid', { name: 'AI usage by day' })).getAllByRole('row')).toHaveLength(31));
  });

  it('shows the API error with its correlation id', async () => {
    mockFetch({
      'GET /api/session': () => json(session('admin')),
      'GET /api/admin/ai/usage/daily': () => json({ code: 'DEPENDENCY_UNAVAILABLE', message: 'analytics did not answer', correlationId: 'corr-usage' }, 503),
      'GET /api/apps': apps,
      'GET /api/admin/ai/status': () => json(status),
    });
    renderSignedIn(<AiUsagePanel />);
    expect(await screen.findByText(/analytics did not answer/)).toBeTruthy();
    expect(screen.getByText('corr-usage')).toBeTruthy();
  });
});

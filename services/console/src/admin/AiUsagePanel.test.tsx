import { fireEvent, screen, waitFor } from '@testing-library/react';
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
const usage = (url: URL) => json({ teamId: 't', day: url.searchParams.get('day'), requests: 3, tokens: { input: 1000, output: 200, cacheRead: 0, cacheWrite: 0 }, costUsd: 0.5, budgetUsd: 0, committedUsd: 0, cacheHits: 0 });

describe('<AiUsagePanel>', () => {
  it('shows seven days of usage and offers the model switch to an operator team owner only', async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('owner', { operator: true })),
      'GET /api/admin/ai/usage': usage,
      'GET /api/admin/ai/status': () => json(status),
      'POST /api/admin/ai/model': () => json({ activeAlias: 'haiku', previousAlias: 'sonnet' }),
    });
    renderSignedIn(<AiUsagePanel />);
    await screen.findByText('sonnet');
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(8));
    fireEvent.change(screen.getByLabelText('Switch every replica to'), { target: { value: 'haiku' } });
    fireEvent.click(screen.getByRole('button', { name: 'Switch model' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(JSON.parse(String(calls.find((c) => c.method === 'POST')!.init.body))).toEqual({ alias: 'haiku' });
  });

  it.each([
    ['an owner of another team', session('owner', { operator: false })],
    ['an admin of an operator team', session('admin', { operator: true })],
  ])('has no model switch for %s', async (_who, s) => {
    mockFetch({ 'GET /api/session': () => json(s), 'GET /api/admin/ai/usage': usage, 'GET /api/admin/ai/status': () => json(status) });
    renderSignedIn(<AiUsagePanel />);
    await screen.findByText('Only owners of an operator team may switch the model.');
    expect(screen.queryByRole('button', { name: 'Switch model' })).toBeNull();
  });
});

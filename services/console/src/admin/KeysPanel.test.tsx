import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { KeysPanel } from './KeysPanel';

afterEach(() => vi.unstubAllGlobals());

const key = (id: string, name: string, status = 'active') => ({
  id,
  prefix: `p${id}`,
  teamId: 't',
  role: 'member',
  name,
  scopes: [],
  userEmail: null,
  createdAt: '2026-03-01T00:00:00Z',
  expiresAt: null,
  revokedAt: null,
  rotatedAt: null,
  replacedBy: null,
  status,
});

describe('<KeysPanel>', () => {
  it('lists keys in one grid and revokes one through its actions menu after a confirmation', { timeout: 15_000 }, async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('admin')),
      'GET /api/keys': () => json({ data: [key('1', 'ci'), key('2', 'old', 'revoked')] }),
      'DELETE /api/keys/1': () => json(key('1', 'ci', 'revoked')),
    });
    renderSignedIn(<KeysPanel />);
    const grid = await screen.findByRole('grid', { name: 'API keys' });
    expect(within(grid).getByRole('rowheader', { name: 'ci' })).toBeTruthy();
    // A revoked key has no actions.
    expect(screen.queryByRole('button', { name: 'Actions for old' })).toBeNull();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Actions for ci' }));
    const menu = await screen.findByRole('menu', { name: 'Actions for ci' });
    await user.click(within(menu).getByRole('menuitem', { name: 'Revoke' }));
    const dialog = await screen.findByRole('dialog', { name: 'Revoke ci?' });
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke key' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/keys/1')).toBe(true));
    expect((calls.find((c) => c.method === 'DELETE')!.init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-token');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it("reaches a key's actions by keyboard: into the grid, arrows to the button, Enter opens the menu on its first item", { timeout: 15_000 }, async () => {
    mockFetch({ 'GET /api/session': () => json(session('admin')), 'GET /api/keys': () => json({ data: [key('1', 'ci')] }) });
    renderSignedIn(<KeysPanel />);
    const grid = await screen.findByRole('grid', { name: 'API keys' });
    within(grid).getAllByRole('row')[1]!.focus();
    const user = userEvent.setup();
    for (let i = 0; i < 7; i++) await user.keyboard('{ArrowRight}');
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Actions for ci');
    await user.keyboard('{Enter}');
    await screen.findByRole('menu', { name: 'Actions for ci' });
    expect(document.activeElement?.textContent).toBe('Rotate');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('menu')).toBeNull());
    // The popover gives focus back to its trigger once its exit has run (a frame later).
    await waitFor(() => expect(document.activeElement?.getAttribute('aria-label')).toBe('Actions for ci'));
  });
});

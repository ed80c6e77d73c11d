import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Role } from '../api/types';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { AppsScreen } from './AppsScreen';

afterEach(() => vi.unstubAllGlobals());

const app = {
  id: '5d0f4f7e-0000-4000-8000-000000000001',
  name: 'Todo',
  description: '',
  template: 'static-web',
  maxIterations: 25,
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
};

function setup(role: Role, scopes: string[] = []) {
  return mockFetch({
    'GET /api/session': () => json(session(role, { scopes })),
    'GET /api/apps': () => json({ data: [app], nextCursor: null }),
    'DELETE /api/apps/5d0f4f7e-0000-4000-8000-000000000001': () =>
      json({ code: 'FORBIDDEN', message: 'This key has the member role', correlationId: 'corr-123' }, 403),
  });
}

describe('<AppsScreen> actions by role', () => {
  it.each([
    ['viewer', [], { create: false, rename: false, remove: false }],
    ['member', [], { create: true, rename: true, remove: false }],
    ['admin', [], { create: true, rename: true, remove: true }],
    ['owner', ['apps:read'], { create: false, rename: false, remove: false }],
  ] as const)('%s with scopes %j', async (role, scopes, expected) => {
    setup(role, [...scopes]);
    renderSignedIn(<AppsScreen />);
    await screen.findByRole('link', { name: 'Todo' });
    expect(!!screen.queryByRole('button', { name: 'New app' })).toBe(expected.create);
    expect(!!screen.queryByRole('button', { name: 'Rename Todo' })).toBe(expected.rename);
    expect(!!screen.queryByRole('button', { name: 'Delete Todo' })).toBe(expected.remove);
  });

  it('asks before deleting, sends the CSRF token, and shows a refusal with its message and correlation id', async () => {
    const { calls } = setup('admin');
    renderSignedIn(<AppsScreen />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete Todo' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete Todo?' });
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Delete app' }));
    await screen.findByText(/This key has the member role/);
    expect(dialog.textContent).toContain('corr-123');
    const del = calls.find((c) => c.method === 'DELETE')!;
    expect((del.init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-token');
    // Escape where the focus is (inside the dialog), as a keyboard user presses it.
    fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});

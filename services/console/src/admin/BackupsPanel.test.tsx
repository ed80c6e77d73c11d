import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { AdminScreen } from './AdminScreen';

afterEach(() => vi.unstubAllGlobals());

const id1 = '11111111-1111-4111-8111-111111111111';
const id2 = '22222222-2222-4222-8222-222222222222';
const backup = (overrides: Record<string, unknown> = {}) => ({
  id: id1,
  type: 'full',
  status: 'completed',
  fileName: 'full-2026-12-04.tar.zst.age',
  sizeBytes: 5 * 1024 * 1024,
  sha256: 'f'.repeat(64),
  encrypted: true,
  trigger: 'schedule',
  createdAt: '2026-12-04T02:00:00.000Z',
  finishedAt: '2026-12-04T02:01:00.000Z',
  error: null,
  verifiedAt: '2026-12-04T02:02:00.000Z',
  verifyError: null,
  drill: { result: 'passed', at: '2026-12-04T03:00:00.000Z', rtoMs: 7800, detail: 'every table matched' },
  ...overrides,
});
const failed = backup({
  id: id2,
  type: 'database',
  status: 'failed',
  sizeBytes: 0,
  fileName: null,
  sha256: null,
  error: 'pg_dump exited 1',
  verifiedAt: null,
  drill: null,
});

describe('Admin · Backups', () => {
  it.each([
    ['an admin of a team that is not an operator', session('admin', { operator: false })],
    ['a member of an operator team', session('member', { operator: true })],
  ])('is hidden for %s', async (_who, s) => {
    const { calls } = mockFetch({ 'GET /api/session': () => json(s), 'GET /api/keys': () => json({ data: [], nextCursor: null }) });
    renderSignedIn(<AdminScreen section="backups" />);
    await screen.findByRole('heading', { name: 'Admin' });
    expect(screen.queryByRole('link', { name: 'Backups' })).toBeNull();
    expect(screen.queryByRole('heading', { name: 'Backups' })).toBeNull();
    expect(calls.some((c) => c.path.startsWith('/api/admin/backups'))).toBe(false);
  });

  it('lists backups with status, size, verification and drill, and opens one with its manifest', async () => {
    const manifest = { version: 1, artifacts: [{ name: 'database.dump', sizeBytes: 4096, sha256: 'e'.repeat(64) }], database: { lsn: '0/3000060' } };
    mockFetch({
      'GET /api/session': () => json(session('admin', { operator: true })),
      'GET /api/admin/backups': () => json({ backups: [backup(), failed] }),
      [`GET /api/admin/backups/${id1}`]: () => json({ ...backup(), manifest }),
    });
    renderSignedIn(<AdminScreen section="backups" />);
    const table = await screen.findByRole('grid', { name: 'Backups, newest first' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain('full');
    expect(rows[0]!.textContent).toContain('5.0 MB');
    expect(rows[0]!.textContent).toContain('passed, ');
    expect(rows[0]!.textContent).toContain('(encrypted)');
    expect(rows[1]!.textContent).toContain('pg_dump exited 1');
    expect(rows[1]!.textContent).toContain('not verified');
    fireEvent.click(within(rows[0]!).getByRole('button', { name: /^Details/ }));
    const detail = await screen.findByTestId('backup-detail');
    expect(detail.textContent).toContain('every table matched');
    expect(detail.textContent).toContain('7.8 s');
    expect(await screen.findByText(/0\/3000060/)).toBeTruthy();
    expect(screen.getByText(/database\.dump/)).toBeTruthy();
  });

  it('offers no create, verify or drill to an operator key without admin:write', async () => {
    mockFetch({
      'GET /api/session': () => json(session('admin', { operator: true, scopes: ['admin:read'] })),
      'GET /api/admin/backups': () => json({ backups: [backup()] }),
    });
    renderSignedIn(<AdminScreen section="backups" />);
    await screen.findByRole('grid', { name: 'Backups, newest first' });
    expect(screen.queryByRole('button', { name: 'Start backup' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Verify/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Drill/ })).toBeNull();
  });

  it('starts a backup and a verification (202) with the CSRF token, and polls until the result lands', async () => {
    let verified = false;
    let listCalls = 0;
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('owner', { operator: true })),
      'GET /api/admin/backups': () => {
        listCalls += 1;
        // The verification lands on the first poll after the refetch that follows the 202.
        if (verified && listCalls > 1) return json({ backups: [backup({ verifiedAt: '2026-12-04T12:00:00.000Z', drill: null })] });
        return json({ backups: [backup({ verifiedAt: null, drill: null })] });
      },
      'POST /api/admin/backups': () => json(backup({ id: id2, type: 'config', status: 'running', encrypted: false }), 202),
      [`POST /api/admin/backups/${id1}/verify`]: () => {
        verified = true;
        listCalls = 0;
        return json({ backupId: id1, status: 'verifying' }, 202);
      },
      [`GET /api/admin/backups/${id2}`]: () =>
        json({ ...backup({ id: id2, type: 'config', status: 'running', verifiedAt: null, drill: null }), manifest: null }),
    });
    renderSignedIn(<AdminScreen section="backups" />);
    await screen.findByText('not verified');
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'config' } });
    fireEvent.click(screen.getByRole('checkbox', { name: /Encrypt/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Start backup' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/api/admin/backups')).toBe(true));
    const create = calls.find((c) => c.method === 'POST' && c.path === '/api/admin/backups')!;
    expect(JSON.parse(String(create.init.body))).toEqual({ type: 'config', encrypt: false });
    expect((create.init.headers as Record<string, string>)['x-csrf-token']).toBe('csrf-token');
    fireEvent.click(screen.getByRole('button', { name: /^Verify/ }));
    await screen.findByText(/Waiting for 1 verification or drill result/);
    const table = screen.getByRole('grid', { name: 'Backups, newest first' });
    await within(table).findByText(/^passed, /, undefined, { timeout: 8000 });
    await waitFor(() => expect(screen.queryByText(/Waiting for/)).toBeNull());
  }, 15_000);
});

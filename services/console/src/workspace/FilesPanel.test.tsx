import { fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderSignedIn, session } from '../test-utils';
import { FilesPanel, visibleRows } from './FilesPanel';

afterEach(() => vi.unstubAllGlobals());

const entries = (n: number) => [
  { path: 'src', type: 'directory' as const, sizeBytes: null },
  ...Array.from({ length: n }, (_, i) => ({ path: `src/file-${String(i).padStart(4, '0')}.js`, type: 'file' as const, sizeBytes: 10 })),
  { path: 'README.md', type: 'file' as const, sizeBytes: 5 },
];

describe('<FilesPanel>', () => {
  it('keeps a 5,000-file tree to a few dozen rows in the page', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/files': () => json({ appId: 'a1', ref: 'abcdef1234567890', entries: entries(5000), truncated: false }),
    });
    renderSignedIn(<FilesPanel appId="a1" />);
    const tree = await screen.findByRole('tree', { name: 'Files' });
    const rows = within(tree).getAllByRole('treeitem');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(50);
    expect(screen.getByText(/\(5001\)/)).toBeTruthy();
  });

  it('lists folders first, collapses a folder with Enter, and opens a file with the keyboard', async () => {
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/apps/a1/files': () => json({ appId: 'a1', ref: 'abcdef1234567890', entries: entries(2), truncated: false }),
      'GET /api/apps/a1/files/content': (url) =>
        json({ path: url.searchParams.get('path'), ref: 'abcdef1234567890', encoding: 'base64', content: 'AA==', sizeBytes: 1 }),
    });
    renderSignedIn(<FilesPanel appId="a1" />);
    const tree = await screen.findByRole('tree', { name: 'Files' });
    expect(
      within(tree)
        .getAllByRole('treeitem')
        .map((r) => r.textContent),
    ).toEqual(['▾ src', 'file-0000.js', 'file-0001.js', 'README.md']);
    fireEvent.keyDown(within(tree).getByRole('treeitem', { name: '▾ src' }), { key: 'Enter' });
    expect(
      within(tree)
        .getAllByRole('treeitem')
        .map((r) => r.textContent),
    ).toEqual(['▸ src', 'README.md']);
    fireEvent.keyDown(within(tree).getByRole('treeitem', { name: 'README.md' }), { key: 'Enter' });
    await screen.findByText(/A binary file/);
    const read = calls.find((c) => c.path === '/api/apps/a1/files/content')!;
    expect(read.url.searchParams.get('path')).toBe('README.md');
    expect(read.url.searchParams.get('ref')).toBe('abcdef1234567890');
  });

  it('orders nested paths folder-first at every level', () => {
    const rows = visibleRows(
      [
        { path: 'b.txt', type: 'file', sizeBytes: 1 },
        { path: 'a/z.txt', type: 'file', sizeBytes: 1 },
        { path: 'a', type: 'directory', sizeBytes: null },
        { path: 'a/b', type: 'directory', sizeBytes: null },
        { path: 'a/b/c.txt', type: 'file', sizeBytes: 1 },
      ],
      new Set(),
    );
    expect(rows.map((r) => r.path)).toEqual(['a', 'a/b', 'a/b/c.txt', 'a/z.txt', 'b.txt']);
  });
});

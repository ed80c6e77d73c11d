import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { DiffFile } from '../api/types';
import DiffView from './DiffView';

const patch = (path: string) =>
  [
    `diff --git a/${path} b/${path}`,
    'index 1111111..2222222 100644',
    `--- a/${path}`,
    `+++ b/${path}`,
    '@@ -1,3 +1,3 @@',
    ' <h1>Todo</h1>',
    '-<p>old line</p>',
    '+<p>new line</p>',
    ' <ul></ul>',
    '',
  ].join('\n');

const file = (path: string, extra: Partial<DiffFile> = {}): DiffFile => ({
  path,
  oldPath: null,
  change: 'modified',
  additions: 1,
  deletions: 1,
  binary: false,
  patch: patch(path),
  patchTruncated: false,
  ...extra,
});

describe('<DiffView>', () => {
  it('renders added and removed lines, unified or split', () => {
    const { container, rerender } = render(<DiffView files={[file('index.html')]} mode="unified" />);
    expect(screen.getByText('new line', { exact: false })).toBeTruthy();
    expect(screen.getByText('old line', { exact: false })).toBeTruthy();
    expect(container.querySelector('table.diff-unified')).not.toBeNull();
    expect(container.querySelectorAll('.diff-code-insert').length).toBe(1);
    expect(container.querySelectorAll('.diff-code-delete').length).toBe(1);
    rerender(<DiffView files={[file('index.html')]} mode="split" />);
    expect(container.querySelector('table.diff-split')).not.toBeNull();
    // Split view: the old line on the left and the new one on the right, in one row.
    const row = container.querySelector('.diff-code-delete')!.closest('tr')!;
    expect(row.textContent).toContain('old line');
    expect(row.textContent).toContain('new line');
  });

  it('shows binary, empty and truncated files plainly, and renames with both paths', () => {
    render(
      <DiffView
        files={[
          file('logo.png', { binary: true, patch: null }),
          file('moved.js', { oldPath: 'old.js', change: 'renamed', patch: null }),
          file('big.js', { patchTruncated: true }),
        ]}
        mode="unified"
      />,
    );
    expect(screen.getByText('Binary file.')).toBeTruthy();
    expect(screen.getByText('old.js → moved.js')).toBeTruthy();
    expect(screen.getByText("This file's diff is too large and was cut short.")).toBeTruthy();
  });

  it('renders a 400-file diff in batches: the first 25 at once, more on request', () => {
    const files = Array.from({ length: 400 }, (_, i) => file(`src/file-${String(i).padStart(3, '0')}.js`));
    const { container } = render(<DiffView files={files} mode="unified" />);
    expect(container.querySelectorAll('article.diff-file')).toHaveLength(25);
    expect(screen.getByText('src/file-000.js')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show 25 more of 375 remaining files' }));
    expect(container.querySelectorAll('article.diff-file')).toHaveLength(50);
  });

  it('says so when nothing changed', () => {
    render(<DiffView files={[]} mode="split" />);
    expect(screen.getByText('No file changes.')).toBeTruthy();
  });
});

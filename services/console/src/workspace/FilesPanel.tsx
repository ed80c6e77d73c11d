import { api, query } from '@console/api/client';
import type { FileContent, FileTree } from '@console/api/types';
import { Link } from '@console/routing/router';
import { preloadable } from '@console/ui/preloadable';
import { ErrorNotice, Loading } from '@console/ui/states';
import { useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Suspense, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';

// CodeMirror is its own chunk, fetched as the files screen opens (in parallel with the tree).
const { Component: CodeViewer, preload: preloadCodeViewer } = preloadable(() => import('./CodeViewer'));
const ROW = 28;

export function FilesPanel({ appId, refSha }: { appId: string; refSha?: string }) {
  useEffect(() => void preloadCodeViewer(), []);
  const tree = useQuery({ queryKey: ['files', appId, refSha ?? 'latest'], queryFn: () => api<FileTree>(`/api/apps/${appId}/files${query({ ref: refSha })}`) });
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const rows = useMemo(() => visibleRows(tree.data?.entries ?? [], collapsed), [tree.data, collapsed]);
  const parent = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => parent.current, estimateSize: () => ROW, overscan: 12 });
  const file = useQuery({
    queryKey: ['file', appId, tree.data?.ref, selected],
    queryFn: () => api<FileContent>(`/api/apps/${appId}/files/content${query({ path: selected, ref: tree.data?.ref })}`),
    enabled: !!selected && !!tree.data,
  });
  if (tree.isPending) return <Loading />;
  if (tree.error) return <ErrorNotice error={tree.error} onRetry={() => void tree.refetch()} />;
  const toggle = (path: string) =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });
  const onKey = (event: KeyboardEvent<HTMLDivElement>, index: number) => {
    const row = rows[index];
    if (!row) return;
    const focusRow = (i: number) => {
      virtual.scrollToIndex(i);
      requestAnimationFrame(() => parent.current?.querySelector<HTMLElement>(`[data-row="${i}"]`)?.focus());
    };
    if (event.key === 'ArrowDown' && index < rows.length - 1) focusRow(index + 1);
    else if (event.key === 'ArrowUp' && index > 0) focusRow(index - 1);
    else if (event.key === 'Enter' || event.key === ' ') {
      if (row.type === 'directory') toggle(row.path);
      else setSelected(row.path);
    } else return;
    event.preventDefault();
  };
  const items = virtual.getVirtualItems();
  const shown = items.length > 0 ? items : rows.slice(0, 40).map((_, index) => ({ index, start: index * ROW, key: index }));
  return (
    <div className="files">
      <div className="card tree-card">
        <h2 className="small">
          Files at <code>{tree.data.ref.slice(0, 12)}</code> ({tree.data.entries.filter((e) => e.type === 'file').length}){refSha ? '' : ', the latest version'}
        </h2>
        {refSha ? (
          <p className="small">
            <Link to={`/apps/${appId}/files`}>Back to the latest version</Link>
          </p>
        ) : null}
        {tree.data.truncated ? <p className="small muted">Only the first files are listed: the tree is very large.</p> : null}
        {rows.length === 0 ? <p className="empty">No files in this version.</p> : null}
        <div ref={parent} className="tree" role="tree" aria-label="Files">
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {shown.map((item) => {
              const row = rows[item.index] as Row;
              return (
                <div
                  key={row.path}
                  role="treeitem"
                  aria-level={row.depth + 1}
                  aria-selected={row.path === selected}
                  aria-expanded={row.type === 'directory' ? !collapsed.has(row.path) : undefined}
                  tabIndex={item.index === 0 ? 0 : -1}
                  data-row={item.index}
                  className={`tree-row ${row.type} ${row.path === selected ? 'selected' : ''}`}
                  style={{
                    position: 'absolute',
                    top: 0,
                    left: 0,
                    right: 0,
                    height: ROW,
                    transform: `translateY(${item.start}px)`,
                    paddingLeft: 8 + row.depth * 14,
                  }}
                  onClick={() => (row.type === 'directory' ? toggle(row.path) : setSelected(row.path))}
                  onKeyDown={(e) => onKey(e, item.index)}
                >
                  {row.type === 'directory' ? (collapsed.has(row.path) ? '▸ ' : '▾ ') : ''}
                  {row.name}
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <div className="card viewer-card">
        {!selected ? <p className="empty">Select a file to view it.</p> : null}
        {file.isPending && selected ? <Loading /> : null}
        {file.error ? <ErrorNotice error={file.error} /> : null}
        {file.data ? (
          <>
            <h2 className="small">
              <code>{file.data.path}</code> · {file.data.sizeBytes.toLocaleString()} bytes
            </h2>
            {file.data.encoding === 'base64' ? (
              <p className="muted">A binary file ({file.data.sizeBytes.toLocaleString()} bytes): not shown.</p>
            ) : (
              <Suspense fallback={<Loading label="Loading the editor…" />}>
                <CodeViewer path={file.data.path} content={file.data.content} />
              </Suspense>
            )}
          </>
        ) : null}
      </div>
    </div>
  );
}

interface Row {
  path: string;
  name: string;
  depth: number;
  type: 'file' | 'directory';
}

// Folders first, then files, each sorted; children of a collapsed folder are hidden.
export function visibleRows(entries: FileTree['entries'], collapsed: Set<string>): Row[] {
  const sorted = [...entries].sort((a, b) => compareTreePaths(a.path, a.type, b.path, b.type));
  const rows: Row[] = [];
  for (const e of sorted) {
    const parts = e.path.split('/');
    const hidden = parts.slice(0, -1).some((_, i) => collapsed.has(parts.slice(0, i + 1).join('/')));
    if (!hidden) rows.push({ path: e.path, name: parts[parts.length - 1] as string, depth: parts.length - 1, type: e.type });
  }
  return rows;
}

function compareTreePaths(a: string, aType: string, b: string, bType: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const aDir = i < pa.length - 1 || aType === 'directory';
    const bDir = i < pb.length - 1 || bType === 'directory';
    if (aDir !== bDir) return aDir ? -1 : 1;
    return (pa[i] as string).localeCompare(pb[i] as string);
  }
  return pa.length - pb.length;
}

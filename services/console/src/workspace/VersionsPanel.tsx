import { api, query } from '@console/api/client';
import type { Page, Version, VersionDiff, VersionRestored } from '@console/api/types';
import { Link } from '@console/routing/router';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ConfirmDialog } from '@console/ui/Dialog';
import { preloadable } from '@console/ui/preloadable';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Suspense, useEffect, useState } from 'react';

// react-diff-view is its own chunk, fetched as the versions screen opens (in parallel with the diff).
const { Component: DiffView, preload: preloadDiffView } = preloadable(() => import('./DiffView'));

export function VersionsPanel({ appId }: { appId: string }) {
  const { session } = useSession();
  const client = useQueryClient();
  useEffect(() => void preloadDiffView(), []);
  const versions = useInfiniteQuery({
    queryKey: ['versions', appId],
    queryFn: ({ pageParam }) => api<Page<Version>>(`/api/apps/${appId}/versions${query({ limit: 50, cursor: pageParam })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const all = versions.data?.pages.flatMap((p) => p.data) ?? [];
  const [selected, setSelected] = useState<string | null>(null);
  const [against, setAgainst] = useState<string>('');
  const [mode, setMode] = useState<'split' | 'unified'>('unified');
  const [restoring, setRestoring] = useState<Version | null>(null);
  const sha = selected ?? all[0]?.sha ?? null;
  // The first version has no parent: it is compared with another version only when one is chosen.
  const rootWithoutBase = !against && all.find((v) => v.sha === sha)?.parentShas.length === 0;
  const diff = useQuery({
    queryKey: ['diff', appId, sha, against],
    queryFn: () => api<VersionDiff>(`/api/apps/${appId}/versions/${sha}/diff${query({ against })}`),
    enabled: !!sha && !rootWithoutBase,
  });
  const restore = useMutation({
    mutationFn: (v: Version) => api<VersionRestored>(`/api/apps/${appId}/versions/${v.sha}/restore`, { method: 'POST', body: {} }),
    onSuccess: (r) => {
      setRestoring(null);
      setSelected(r.sha);
      setAgainst('');
      void client.invalidateQueries({ queryKey: ['versions', appId] });
      void client.invalidateQueries({ queryKey: ['files', appId] });
    },
  });
  if (versions.isPending) return <Loading />;
  if (versions.error) return <ErrorNotice error={versions.error} onRetry={() => void versions.refetch()} />;
  if (all.length === 0) return <Empty>No versions yet: every agent turn that changes files makes one.</Empty>;
  const current = all.find((v) => v.sha === sha);
  return (
    <div className="versions">
      <div className="card history">
        <h2 className="small">History</h2>
        <ol className="version-list" aria-label="Versions">
          {all.map((v, i) => (
            <li key={v.sha}>
              <button type="button" className={`version ${v.sha === sha ? 'selected' : ''}`} aria-pressed={v.sha === sha} onClick={() => setSelected(v.sha)}>
                <code>{v.sha.slice(0, 8)}</code> {v.message.split('\n')[0]}
                <span className="small muted block">
                  {new Date(v.committedAt).toLocaleString()}
                  {i === 0 ? ' · latest' : ''}
                  {v.restoredFrom ? ` · restored from ${v.restoredFrom.slice(0, 8)}` : ''}
                </span>
              </button>
            </li>
          ))}
        </ol>
        {versions.hasNextPage ? (
          <button type="button" onClick={() => void versions.fetchNextPage()}>
            Older versions
          </button>
        ) : null}
      </div>
      <div className="card diff-card">
        <div className="row wrap">
          <label htmlFor="against">Compare with</label>
          <select id="against" value={against} onChange={(e) => setAgainst(e.target.value)}>
            <option value="">its parent</option>
            {all
              .filter((v) => v.sha !== sha)
              .map((v) => (
                <option key={v.sha} value={v.sha}>
                  {v.sha.slice(0, 8)} {v.message.split('\n')[0]?.slice(0, 40)}
                </option>
              ))}
          </select>
          <fieldset className="segmented">
            <legend className="visually-hidden">Diff layout</legend>
            <label>
              <input type="radio" name="diff-mode" checked={mode === 'unified'} onChange={() => setMode('unified')} /> Unified
            </label>
            <label>
              <input type="radio" name="diff-mode" checked={mode === 'split'} onChange={() => setMode('split')} /> Split
            </label>
          </fieldset>
          {current ? <Link to={`/apps/${appId}/files?ref=${current.sha}`}>Files at this version</Link> : null}
          {current && can(session, 'restoreVersion') && current.sha !== all[0]?.sha ? (
            <button type="button" className="primary" onClick={() => setRestoring(current)}>
              Restore this version
            </button>
          ) : null}
        </div>
        {rootWithoutBase ? (
          <p className="empty" data-testid="diff-summary">
            The first version has no parent. Choose a version to compare it with.
          </p>
        ) : null}
        {diff.isPending && !rootWithoutBase ? <Loading label="Loading the diff…" /> : null}
        {diff.error ? <ErrorNotice error={diff.error} /> : null}
        {diff.data ? (
          <>
            <p className="small muted" data-testid="diff-summary">
              {diff.data.filesChanged} file(s) changed, +{diff.data.additions} −{diff.data.deletions}
            </p>
            <Suspense fallback={<Loading label="Loading the diff view…" />}>
              <DiffView files={diff.data.files} mode={mode} />
            </Suspense>
          </>
        ) : null}
      </div>
      {restoring ? (
        <ConfirmDialog
          title={`Restore ${restoring.sha.slice(0, 8)}?`}
          message={
            <>
              <p>The app's files become those of this version, as a new version on top of the history (nothing is lost).</p>
              {restore.error ? <ErrorNotice error={restore.error} /> : null}
            </>
          }
          confirmLabel="Restore"
          busy={restore.isPending}
          onConfirm={() => restore.mutate(restoring)}
          onCancel={() => {
            restore.reset();
            setRestoring(null);
          }}
        />
      ) : null}
    </div>
  );
}

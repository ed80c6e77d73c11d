import { api } from '@console/api/client';
import type { Backup, BackupWithManifest } from '@console/api/types';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { DataTable } from '@console/ui/DataTable';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

const TYPES = ['full', 'database', 'repos', 'config', 'redis'] as const;
const POLL_MS = 2000;
// A verify or drill that has not landed in this long is no longer polled for (the list still refreshes on demand).
const WATCH_LIMIT_MS = 15 * 60_000;

// What changes on a backup when its run, verification or drill finishes.
const fingerprint = (b: Backup) => `${b.status}|${b.verifiedAt}|${b.verifyError}|${b.drill?.at ?? ''}`;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// Operators' backups: the list, one backup's manifest, and create / verify / drill (202, then polled).
export function BackupsPanel() {
  const { session } = useSession();
  const client = useQueryClient();
  const manage = can(session, 'manageBackups');
  const [selected, setSelected] = useState<string | null>(null);
  // Backups with a verify or drill under way: their fingerprint when it started, and when.
  const [watching, setWatching] = useState<Record<string, { before: string; since: number }>>({});
  const [type, setType] = useState<(typeof TYPES)[number]>('full');
  const [encrypt, setEncrypt] = useState(true);

  const list = useQuery({
    queryKey: ['backups'],
    queryFn: () => api<{ backups: Backup[] }>('/api/admin/backups'),
    refetchInterval: (q) => (q.state.data?.backups.some((b) => b.status === 'running') || Object.keys(watching).length > 0 ? POLL_MS : false),
  });
  useEffect(() => {
    const backups = list.data?.backups ?? [];
    setWatching((current) => {
      const next = Object.fromEntries(
        Object.entries(current).filter(([id, w]) => {
          const b = backups.find((x) => x.id === id);
          return Date.now() - w.since < WATCH_LIMIT_MS && (!b || fingerprint(b) === w.before);
        }),
      );
      return Object.keys(next).length === Object.keys(current).length ? current : next;
    });
  }, [list.data]);

  const watch = (backupId: string) => {
    const b = list.data?.backups.find((x) => x.id === backupId);
    setWatching((current) => ({ ...current, [backupId]: { before: b ? fingerprint(b) : '', since: Date.now() } }));
    void client.invalidateQueries({ queryKey: ['backups'] });
  };
  const create = useMutation({
    mutationFn: () => api<Backup>('/api/admin/backups', { method: 'POST', body: { type, encrypt } }),
    onSuccess: (b) => {
      setSelected(b.id);
      void client.invalidateQueries({ queryKey: ['backups'] });
    },
  });
  const verify = useMutation({
    mutationFn: (backupId: string) => api<{ backupId: string }>(`/api/admin/backups/${backupId}/verify`, { method: 'POST' }),
    onSuccess: (r) => watch(r.backupId),
  });
  const drill = useMutation({
    mutationFn: (backupId?: string) => api<{ backupId: string }>('/api/admin/backups/drill', { method: 'POST', body: backupId ? { backupId } : {} }),
    onSuccess: (r) => watch(r.backupId),
  });
  const busy = (id: string) => Boolean(watching[id]) || list.data?.backups.find((b) => b.id === id)?.status === 'running';
  const actionError = create.error ?? verify.error ?? drill.error;
  const rows = list.data?.backups ?? [];

  return (
    <div className="stack">
      {manage ? (
        <section className="card" aria-labelledby="backup-create-title">
          <h2 id="backup-create-title">New backup</h2>
          <form
            className="filters row wrap"
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate();
            }}
          >
            <div className="field">
              <label htmlFor="backup-type">Type</label>
              <select id="backup-type" value={type} onChange={(e) => setType(e.target.value as (typeof TYPES)[number])}>
                {TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
            <label className="radio">
              <input type="checkbox" checked={encrypt} onChange={(e) => setEncrypt(e.target.checked)} /> Encrypt (age, to every recovery key)
            </label>
            <button type="submit" className="primary" disabled={create.isPending}>
              Start backup
            </button>
            <button type="button" onClick={() => drill.mutate(undefined)} disabled={drill.isPending}>
              Drill the newest backup
            </button>
          </form>
        </section>
      ) : null}
      {actionError ? <ErrorNotice error={actionError} /> : null}
      <section className="card" aria-labelledby="backups-title">
        <h2 id="backups-title">Backups</h2>
        {list.isPending ? <Loading /> : null}
        {list.error ? <ErrorNotice error={list.error} onRetry={() => void list.refetch()} /> : null}
        {list.isSuccess && rows.length === 0 ? <Empty>No backups yet.</Empty> : null}
        {Object.keys(watching).length > 0 ? (
          <p className="small" role="status">
            Waiting for {Object.keys(watching).length} verification or drill result(s)…
          </p>
        ) : null}
        {rows.length > 0 ? (
          <DataTable
            caption="Backups, newest first"
            rows={rows}
            rowKey={(b) => b.id}
            columns={[
              { id: 'created', header: 'Created', rowHeader: true, cell: (b) => new Date(b.createdAt).toLocaleString() },
              {
                id: 'type',
                header: 'Type',
                cell: (b) => (
                  <>
                    {b.type}
                    {b.encrypted ? <span className="small muted"> (encrypted)</span> : null}
                  </>
                ),
              },
              {
                id: 'status',
                header: 'Status',
                cell: (b) => (
                  <>
                    <span className={`badge ${b.status}`}>{b.status}</span>
                    {b.error ? <div className="small">{b.error}</div> : null}
                  </>
                ),
              },
              { id: 'size', header: 'Size', cell: (b) => (b.status === 'completed' ? formatBytes(b.sizeBytes) : '—') },
              { id: 'verification', header: 'Verification', cell: (b) => verification(b) },
              { id: 'drill', header: 'Drill', cell: (b) => (b.drill ? `${b.drill.result}, ${new Date(b.drill.at).toLocaleDateString()}` : '—') },
              {
                id: 'actions',
                header: 'Actions',
                cell: (b) => (
                  <div className="row wrap">
                    <button type="button" onClick={() => setSelected(b.id)} aria-label={`Details of the ${b.type} backup of ${b.createdAt}`}>
                      Details
                    </button>
                    {manage && b.status === 'completed' ? (
                      <>
                        <button
                          type="button"
                          onClick={() => verify.mutate(b.id)}
                          disabled={busy(b.id)}
                          aria-label={`Verify the ${b.type} backup of ${b.createdAt}`}
                        >
                          Verify
                        </button>
                        <button
                          type="button"
                          onClick={() => drill.mutate(b.id)}
                          disabled={busy(b.id)}
                          aria-label={`Drill the ${b.type} backup of ${b.createdAt}`}
                        >
                          Drill
                        </button>
                      </>
                    ) : null}
                  </div>
                ),
              },
            ]}
          />
        ) : null}
      </section>
      {selected ? <BackupDetail backupId={selected} poll={busy(selected)} onClose={() => setSelected(null)} /> : null}
    </div>
  );
}

function verification(b: Backup): string {
  if (b.verifyError) return `failed: ${b.verifyError}`;
  if (b.verifiedAt) return `passed, ${new Date(b.verifiedAt).toLocaleDateString()}`;
  return 'not verified';
}

function BackupDetail({ backupId, poll, onClose }: { backupId: string; poll: boolean; onClose: () => void }) {
  const detail = useQuery({
    queryKey: ['backup', backupId],
    queryFn: () => api<BackupWithManifest>(`/api/admin/backups/${backupId}`),
    refetchInterval: poll ? POLL_MS : false,
  });
  const b = detail.data;
  return (
    <section className="card" aria-labelledby="backup-detail-title">
      <div className="row between">
        <h2 id="backup-detail-title">Backup {backupId.slice(0, 8)}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {detail.isPending ? <Loading /> : null}
      {detail.error ? <ErrorNotice error={detail.error} onRetry={() => void detail.refetch()} /> : null}
      {b ? (
        <>
          <dl className="details" data-testid="backup-detail">
            <dt>Type</dt>
            <dd>{b.type}</dd>
            <dt>Status</dt>
            <dd>{b.status}</dd>
            <dt>Trigger</dt>
            <dd>{b.trigger}</dd>
            <dt>File</dt>
            <dd>{b.fileName ? <code>{b.fileName}</code> : '—'}</dd>
            <dt>Size</dt>
            <dd>{formatBytes(b.sizeBytes)}</dd>
            <dt>SHA-256</dt>
            <dd>{b.sha256 ? <code>{b.sha256}</code> : '—'}</dd>
            <dt>Encrypted</dt>
            <dd>{b.encrypted ? 'yes' : 'no'}</dd>
            <dt>Finished</dt>
            <dd>{b.finishedAt ? new Date(b.finishedAt).toLocaleString() : '—'}</dd>
            <dt>Verification</dt>
            <dd>{verification(b)}</dd>
            <dt>Drill</dt>
            <dd>
              {b.drill
                ? `${b.drill.result} at ${new Date(b.drill.at).toLocaleString()}, restored in ${(b.drill.rtoMs / 1000).toFixed(1)} s: ${b.drill.detail}`
                : '—'}
            </dd>
          </dl>
          <h3>Manifest</h3>
          {b.manifest ? (
            <pre className="step-detail manifest">{JSON.stringify(b.manifest, null, 2)}</pre>
          ) : (
            <Empty>No manifest (the backup did not complete).</Empty>
          )}
        </>
      ) : null}
    </section>
  );
}

import { api, ApiError, query } from '@console/api/client';
import type { LogLevel, Preview, PreviewCheck, PreviewLogEntry } from '@console/api/types';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';

const STATE_BADGE: Record<Preview['state'], string> = { installing: 'running', starting: 'running', running: 'completed', crashed: 'failed', stopped: '' };
const OUTCOME_BADGE: Record<PreviewCheck['outcome'], string> = { passed: 'completed', failed: 'failed', unavailable: '' };

// The app's live preview, its state, the last headless check and what its browsers logged;
// until the gateway serves a preview (404) a clear placeholder.
export function PreviewPane({ appId }: { appId: string }) {
  const { session } = useSession();
  const client = useQueryClient();
  const preview = useQuery({
    queryKey: ['preview', appId],
    queryFn: async () => {
      try {
        return await api<Preview>(`/api/apps/${appId}/preview`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
    retry: false,
    // Follow a preview that is still coming up, and the check that lands after each agent turn.
    refetchInterval: (q) => (q.state.data && q.state.data.state !== 'running' && q.state.data.state !== 'stopped' ? 2000 : 10_000),
  });
  const action = useMutation({
    mutationFn: (kind: 'restart' | 'rotate') => api<Preview>(`/api/apps/${appId}/preview/${kind}`, { method: 'POST' }),
    onSuccess: (data) => client.setQueryData(['preview', appId], data),
  });
  const data = preview.data;
  return (
    <aside className="preview card stack" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      {preview.isPending ? <Loading /> : null}
      {preview.error ? <ErrorNotice error={preview.error} onRetry={() => void preview.refetch()} /> : null}
      {data === null ? (
        <p className="empty" data-testid="no-preview">
          No preview yet. The live preview of this app appears here once the platform serves one.
        </p>
      ) : null}
      {data ? (
        <>
          <div className="row between wrap">
            <p className="small" data-testid="preview-state">
              State: <span className={`badge ${STATE_BADGE[data.state] ?? ''}`}>{data.state}</span>
              {data.reason ? <span className="muted"> — {data.reason}</span> : null}
            </p>
            {can(session, 'controlPreview') ? (
              <div className="row">
                <button type="button" onClick={() => action.mutate('restart')} disabled={action.isPending}>
                  Restart
                </button>
                <button type="button" onClick={() => action.mutate('rotate')} disabled={action.isPending} title="The old link stops working at once">
                  New link
                </button>
              </div>
            ) : null}
          </div>
          {action.error ? <ErrorNotice error={action.error} /> : null}
          {data.url ? (
            <p className="small">
              <a href={data.url} target="_blank" rel="noopener noreferrer">
                Open the preview in a new tab
              </a>
            </p>
          ) : null}
          {/* Keyed on the checked version, so the frame reloads when an agent turn lands a new one. */}
          {data.url ? (
            <iframe key={data.lastCheck?.sha ?? 'none'} title="App preview" src={data.url} sandbox="allow-scripts allow-forms" className="preview-frame" />
          ) : null}
          <CheckSummary check={data.lastCheck} />
          <PreviewLogs appId={appId} />
        </>
      ) : null}
    </aside>
  );
}

function CheckSummary({ check }: { check: PreviewCheck | null }) {
  return (
    <section aria-labelledby="check-title">
      <h3 id="check-title">Last check</h3>
      {!check ? (
        <Empty>No headless check yet: one runs after each agent turn.</Empty>
      ) : (
        <div className="stack preview-check" data-testid="preview-check">
          <p className="small">
            <span className={`badge ${OUTCOME_BADGE[check.outcome]}`}>{check.outcome}</span> version <code>{check.sha.slice(0, 7)}</code>,{' '}
            {new Date(check.checkedAt).toLocaleString()}; loaded in {Math.round(check.loadMs)} ms{check.blank ? '; the page was blank' : ''}
          </p>
          {check.reason ? <p className="small">{check.reason}</p> : null}
          <Findings label="Console errors" items={check.consoleErrors} />
          <Findings label="Page errors" items={check.pageErrors} />
          <Findings label="Failed requests" items={check.failedRequests} />
          {/* Same origin: the session cookie goes with the image request, as with any GET. */}
          {check.screenshotUrl ? (
            <img className="preview-shot" src={check.screenshotUrl} alt={`The page as the check saw version ${check.sha.slice(0, 7)}`} loading="lazy" />
          ) : null}
        </div>
      )}
    </section>
  );
}

function Findings({ label, items }: { label: string; items: string[] }) {
  if (items.length === 0) return <p className="small muted">{label}: none</p>;
  return (
    <details open>
      <summary>
        {label}: {items.length}
      </summary>
      <ul className="findings">
        {items.map((item, i) => (
          <li key={i}>
            <pre className="step-detail">{item}</pre>
          </li>
        ))}
      </ul>
    </details>
  );
}

function PreviewLogs({ appId }: { appId: string }) {
  const [level, setLevel] = useState<LogLevel | ''>('');
  const [source, setSource] = useState<'console' | 'network' | ''>('');
  const levelId = useId();
  const sourceId = useId();
  const logs = useQuery({
    queryKey: ['preview-logs', appId, level, source],
    queryFn: () => api<{ entries: PreviewLogEntry[] }>(`/api/apps/${appId}/preview/logs${query({ level, source })}`),
    refetchInterval: 5000,
  });
  // Newest first, whatever order the page arrives in.
  const entries = [...(logs.data?.entries ?? [])].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt));
  return (
    <section aria-labelledby="logs-title">
      <h3 id="logs-title">Console, network and errors</h3>
      <div className="filters row wrap">
        <div className="field">
          <label htmlFor={levelId}>Level</label>
          <select id={levelId} value={level} onChange={(e) => setLevel(e.target.value as LogLevel | '')}>
            <option value="">all</option>
            <option value="debug">debug and above</option>
            <option value="info">info and above</option>
            <option value="warn">warn and above</option>
            <option value="error">error</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={sourceId}>Source</label>
          <select id={sourceId} value={source} onChange={(e) => setSource(e.target.value as 'console' | 'network' | '')}>
            <option value="">all</option>
            <option value="console">console</option>
            <option value="network">network</option>
          </select>
        </div>
      </div>
      {logs.isPending ? <Loading /> : null}
      {logs.error ? <ErrorNotice error={logs.error} onRetry={() => void logs.refetch()} /> : null}
      {logs.data && entries.length === 0 ? <Empty>Nothing logged{level || source ? ' for these filters' : ''} yet.</Empty> : null}
      {entries.length > 0 ? (
        <ol className="preview-logs" aria-label="Preview log, newest first" tabIndex={0}>
          {entries.map((e, i) => (
            <li key={`${e.occurredAt}-${i}`} className={`log-entry ${e.level}`}>
              <span className="small muted">{new Date(e.occurredAt).toLocaleTimeString()}</span> <span className="badge">{e.source}</span>{' '}
              <span className={`badge ${e.level === 'error' ? 'failed' : ''}`}>{e.level}</span> <span className="step-summary">{e.message}</span>
              {e.location ? <span className="small muted"> ({e.location})</span> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

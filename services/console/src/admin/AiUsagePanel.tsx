import { api } from '@console/api/client';
import type { AiStatus, AiUsageDaily, AiUsageTotals, App, Page } from '@console/api/types';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { DataTable } from '@console/ui/DataTable';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { usageRows } from './ai-usage-model';

const RANGES = [7, 30, 90];
const DAY_MS = 86_400_000;

export function AiUsagePanel() {
  const { session } = useSession();
  const client = useQueryClient();
  const status = useQuery({ queryKey: ['ai-status'], queryFn: () => api<AiStatus>('/api/admin/ai/status') });
  const [alias, setAlias] = useState('');
  const switchModel = useMutation({
    mutationFn: (a: string) => api('/api/admin/ai/model', { method: 'POST', body: { alias: a } }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['ai-status'] }),
  });
  return (
    <div className="stack">
      <UsageByDayAndApp />
      <section aria-labelledby="model-title" className="card">
        <h2 id="model-title">Model</h2>
        {status.isPending ? <Loading /> : null}
        {status.error ? <ErrorNotice error={status.error} /> : null}
        {status.data ? (
          <>
            <p>
              Active alias: <strong>{status.data.activeAlias}</strong>
            </p>
            <ul>
              {status.data.breakers.map((b) => (
                <li key={b.model}>
                  <code>{b.model}</code>: circuit {b.state}
                  {b.consecutiveFailures ? `, ${b.consecutiveFailures} failures` : ''}
                </li>
              ))}
            </ul>
            {can(session, 'switchModel') ? (
              <form
                className="row wrap"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (alias) switchModel.mutate(alias);
                }}
              >
                <label htmlFor="alias">Switch every replica to</label>
                <select id="alias" value={alias} onChange={(e) => setAlias(e.target.value)}>
                  <option value="">choose an alias</option>
                  {status.data.aliases.map((a) => (
                    <option key={a.alias} value={a.alias}>
                      {a.alias} ({a.provider} {a.model})
                    </option>
                  ))}
                </select>
                <button type="submit" className="primary" disabled={!alias || switchModel.isPending}>
                  Switch model
                </button>
              </form>
            ) : (
              <p className="small muted">Only owners of an operator team may switch the model.</p>
            )}
            {switchModel.error ? <ErrorNotice error={switchModel.error} /> : null}
          </>
        ) : null}
      </section>
    </div>
  );
}

const usd = (n: number) => n.toFixed(4);
const count = (n: number) => n.toLocaleString();

// Usage and cost over a range of UTC days, per day and per app; one app's days on demand.
function UsageByDayAndApp() {
  const { session } = useSession();
  const [days, setDays] = useState(7);
  const [appId, setAppId] = useState('');
  const to = new Date().toISOString().slice(0, 10);
  const from = new Date(Date.parse(to) - (days - 1) * DAY_MS).toISOString().slice(0, 10);
  const usage = useQuery({
    queryKey: ['ai-usage-daily', from, to],
    queryFn: () => api<AiUsageDaily>(`/api/admin/ai/usage/daily?from=${from}&to=${to}`),
    placeholderData: keepPreviousData,
  });
  // App names for the ids (the first 100 apps; others show their id).
  const apps = useQuery({ queryKey: ['apps', 'names'], queryFn: () => api<Page<App>>('/api/apps?limit=100'), enabled: can(session, 'readApps') });
  const names = useMemo(() => new Map((apps.data?.data ?? []).map((a) => [a.id, a.name])), [apps.data]);
  const appName = (id: string | null) => (id === null ? 'Outside an app (API)' : (names.get(id) ?? id));
  const rows = usage.data ? usageRows(usage.data, appId === '' ? undefined : appId === 'none' ? null : appId) : [];
  return (
    <section aria-labelledby="usage-title" className="card stack">
      <h2 id="usage-title">AI usage and cost (UTC days)</h2>
      <div className="row wrap filters">
        <div className="field">
          <label htmlFor="usage-range">Range</label>
          <select id="usage-range" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map((d) => (
              <option key={d} value={d}>
                last {d} days
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="usage-app">App</label>
          <select id="usage-app" value={appId} onChange={(e) => setAppId(e.target.value)}>
            <option value="">every app</option>
            {(usage.data?.apps ?? []).map((a) => (
              <option key={a.appId ?? 'none'} value={a.appId ?? 'none'}>
                {appName(a.appId)}
              </option>
            ))}
          </select>
        </div>
      </div>
      {usage.isPending ? <Loading label="Loading usage…" /> : null}
      {usage.error ? <ErrorNotice error={usage.error} onRetry={() => void usage.refetch()} /> : null}
      {usage.data ? (
        <>
          <p>
            {usage.data.from} to {usage.data.to}: <strong>{count(usage.data.totals.requests)}</strong> requests,{' '}
            <strong>${usd(usage.data.totals.costUsd)}</strong>
          </p>
          <h3>By day{appId ? `: ${appName(appId === 'none' ? null : appId)}` : ''}</h3>
          <DataTable
            caption="AI usage by day"
            rows={rows}
            rowKey={(r) => r.day}
            columns={[{ id: 'day', header: 'Day', rowHeader: true, cell: (r: { day: string } & AiUsageTotals) => r.day }, ...TOTAL_COLUMNS]}
          />
          <h3>By app</h3>
          {usage.data.apps.length === 0 ? <Empty>No model calls in this range.</Empty> : null}
          {usage.data.apps.length > 0 ? (
            <DataTable
              caption="AI usage by app"
              rows={usage.data.apps}
              rowKey={(a) => a.appId ?? 'none'}
              columns={[
                { id: 'app', header: 'App', rowHeader: true, cell: (a: { appId: string | null } & AiUsageTotals) => appName(a.appId) },
                ...TOTAL_COLUMNS,
              ]}
            />
          ) : null}
        </>
      ) : null}
    </section>
  );
}

const TOTAL_COLUMNS = [
  { id: 'requests', header: 'Requests', cell: (r: AiUsageTotals) => count(r.requests) },
  { id: 'input', header: 'Input tokens', cell: (r: AiUsageTotals) => count(r.inputTokens) },
  { id: 'output', header: 'Output tokens', cell: (r: AiUsageTotals) => count(r.outputTokens) },
  { id: 'cost', header: 'Cost (USD)', cell: (r: AiUsageTotals) => usd(r.costUsd) },
];

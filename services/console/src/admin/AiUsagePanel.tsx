import { api } from '@console/api/client';
import type { AiStatus, AiUsage } from '@console/api/types';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ErrorNotice, Loading } from '@console/ui/states';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

const DAYS = 7;

export function AiUsagePanel() {
  const { session } = useSession();
  const client = useQueryClient();
  const days = Array.from({ length: DAYS }, (_, i) => new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10));
  const usage = useQueries({ queries: days.map((day) => ({ queryKey: ['ai-usage', day], queryFn: () => api<AiUsage>(`/api/admin/ai/usage?day=${day}`) })) });
  const status = useQuery({ queryKey: ['ai-status'], queryFn: () => api<AiStatus>('/api/admin/ai/status') });
  const [alias, setAlias] = useState('');
  const switchModel = useMutation({
    mutationFn: (a: string) => api('/api/admin/ai/model', { method: 'POST', body: { alias: a } }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['ai-status'] }),
  });
  const firstError = usage.find((u) => u.error)?.error;
  return (
    <div className="stack">
      <section aria-labelledby="usage-title" className="card">
        <h2 id="usage-title">AI usage, last {DAYS} days (UTC)</h2>
        {usage.some((u) => u.isPending) ? <Loading /> : null}
        {firstError ? <ErrorNotice error={firstError} /> : null}
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">AI usage by day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Requests</th>
                <th scope="col">Input tokens</th>
                <th scope="col">Output tokens</th>
                <th scope="col">Cost (USD)</th>
                <th scope="col">Budget (USD)</th>
              </tr>
            </thead>
            <tbody>
              {usage.map((u, i) =>
                u.data ? (
                  <tr key={days[i]}>
                    <td>{u.data.day}</td>
                    <td>{u.data.requests}</td>
                    <td>{u.data.tokens.input.toLocaleString()}</td>
                    <td>{u.data.tokens.output.toLocaleString()}</td>
                    <td>{u.data.costUsd.toFixed(4)}</td>
                    <td>{u.data.budgetUsd ? u.data.budgetUsd.toFixed(2) : '—'}</td>
                  </tr>
                ) : null,
              )}
            </tbody>
          </table>
        </div>
      </section>
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

import { api } from '@console/api/client';
import type { AdminStatus } from '@console/api/types';
import { ErrorNotice, Loading } from '@console/ui/states';
import { useQuery } from '@tanstack/react-query';

export function HealthPanel() {
  const status = useQuery({ queryKey: ['admin-status'], queryFn: () => api<AdminStatus>('/api/admin/status'), refetchInterval: 10_000 });
  if (status.isPending) return <Loading />;
  if (status.error) return <ErrorNotice error={status.error} onRetry={() => void status.refetch()} />;
  return (
    <div className="card">
      <h2>
        Platform <span className={`badge ${status.data.status === 'ok' ? 'completed' : 'failed'}`}>{status.data.status}</span>
      </h2>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Services and dependencies</caption>
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Status</th>
              <th scope="col">Latency (ms)</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(status.data.checks).map(([name, c]) => (
              <tr key={name}>
                <td>{name}</td>
                <td>
                  <span className={`badge ${c.status === 'up' ? 'completed' : 'failed'}`}>{c.status}</span>
                </td>
                <td>{c.latencyMs.toFixed(1)}</td>
                <td className="small">{c.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

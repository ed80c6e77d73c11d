import { api } from '@console/api/client';
import type { AdminStatus } from '@console/api/types';
import { DataTable } from '@console/ui/DataTable';
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
      <DataTable
        caption="Services and dependencies"
        rows={Object.entries(status.data.checks).map(([name, c]) => ({ name, ...c }))}
        rowKey={(c) => c.name}
        columns={[
          { id: 'check', header: 'Check', rowHeader: true, cell: (c) => c.name },
          { id: 'status', header: 'Status', cell: (c) => <span className={`badge ${c.status === 'up' ? 'completed' : 'failed'}`}>{c.status}</span> },
          { id: 'latency', header: 'Latency (ms)', cell: (c) => c.latencyMs.toFixed(1) },
          { id: 'error', header: 'Error', className: 'small', cell: (c) => c.error ?? '' },
        ]}
      />
    </div>
  );
}

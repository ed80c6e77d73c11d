import { api, query } from '@console/api/client';
import type { AuditEntry, Page } from '@console/api/types';
import { DataTable } from '@console/ui/DataTable';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

interface Filters {
  actor: string;
  action: string;
  result: string;
  since: string;
  until: string;
}

const EMPTY: Filters = { actor: '', action: '', result: '', since: '', until: '' };

export function AuditLog() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const log = useInfiniteQuery({
    queryKey: ['audit', filters],
    queryFn: ({ pageParam }) =>
      api<Page<AuditEntry>>(
        `/api/audit${query({ limit: 100, cursor: pageParam, actor: filters.actor, action: filters.action, result: filters.result, since: iso(filters.since), until: iso(filters.until) })}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  const rows = log.data?.pages.flatMap((p) => p.data) ?? [];
  const field = (name: keyof Filters, label: string, type = 'text') => (
    <div className="field">
      <label htmlFor={`audit-${name}`}>{label}</label>
      <input id={`audit-${name}`} type={type} value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
    </div>
  );
  return (
    <div>
      <form className="filters row wrap" onSubmit={apply} aria-label="Audit filters">
        {field('actor', 'Actor (key id or prefix)')}
        {field('action', 'Action')}
        {field('result', 'Result')}
        {field('since', 'Since', 'datetime-local')}
        {field('until', 'Until', 'datetime-local')}
        <button type="submit" className="primary">
          Filter
        </button>
      </form>
      {log.isPending ? <Loading /> : null}
      {log.error ? <ErrorNotice error={log.error} onRetry={() => void log.refetch()} /> : null}
      {log.isSuccess && rows.length === 0 ? <Empty>No audit entries match.</Empty> : null}
      {rows.length > 0 ? (
        <DataTable
          caption="Audit log"
          rows={rows}
          rowKey={(r) => r.id}
          columns={[
            { id: 'time', header: 'Time', className: 'small', cell: (r) => new Date(r.occurredAt).toLocaleString() },
            { id: 'actor', header: 'Actor', cell: (r) => <code>{r.keyPrefix || r.actor || '—'}</code> },
            { id: 'action', header: 'Action', rowHeader: true, cell: (r) => r.action },
            { id: 'target', header: 'Target', className: 'small', cell: (r) => r.target },
            { id: 'result', header: 'Result', cell: (r) => r.result },
            { id: 'status', header: 'Status', cell: (r) => r.status },
          ]}
        />
      ) : null}
      {log.hasNextPage ? (
        <button type="button" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
          Older entries
        </button>
      ) : null}
    </div>
  );
}

function iso(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

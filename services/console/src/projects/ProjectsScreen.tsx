import { api, query } from '@console/api/client';
import type { Page, Project, Task } from '@console/api/types';
import { Link, useRouter } from '@console/routing/router';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { DataTable } from '@console/ui/DataTable';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { ProjectForm } from './ProjectForm';
import { TaskQueue } from './TaskTable';

// The team's GitHub projects and the queue of tasks across them.
export function ProjectsScreen() {
  const { session } = useSession();
  const client = useQueryClient();
  const { navigate } = useRouter();
  const projects = useInfiniteQuery({
    queryKey: ['projects'],
    queryFn: ({ pageParam }) => api<Page<Project>>(`/api/projects${query({ limit: 100, cursor: pageParam })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  // The queue moves on its own (webhooks, polling): refreshed every 5 s while shown.
  const running = useQuery({ queryKey: ['tasks', 'running'], queryFn: () => api<{ data: Task[] }>('/api/tasks/running'), refetchInterval: 5000 });
  const [creating, setCreating] = useState(false);
  const rows = useMemo(() => projects.data?.pages.flatMap((p) => p.data) ?? [], [projects.data]);
  const byId = useMemo(() => new Map(rows.map((p) => [p.id, p])), [rows]);
  return (
    <section aria-labelledby="projects-title" className="stack">
      <div className="row between">
        <h1 id="projects-title">Projects</h1>
        {can(session, 'manageProjects') ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New project
          </button>
        ) : null}
      </div>
      <section aria-labelledby="queue-title" className="card">
        <h2 id="queue-title">Task queue</h2>
        <p className="small muted">Queued and running tasks of every project, by state, highest priority first.</p>
        {running.isPending ? <Loading label="Loading the queue…" /> : null}
        {running.error ? <ErrorNotice error={running.error} onRetry={() => void running.refetch()} /> : null}
        {running.data && running.data.data.length === 0 ? <Empty>No task is queued or running.</Empty> : null}
        {running.data && running.data.data.length > 0 ? <TaskQueue tasks={running.data.data} projects={byId} label="Queue" /> : null}
      </section>
      <section aria-labelledby="project-list-title">
        <h2 id="project-list-title">Repositories</h2>
        {projects.isPending ? <Loading /> : null}
        {projects.error ? <ErrorNotice error={projects.error} onRetry={() => void projects.refetch()} /> : null}
        {projects.isSuccess && rows.length === 0 ? (
          <Empty>No projects yet. {can(session, 'manageProjects') ? 'Add a GitHub repository whose labelled issues the agent should work on.' : ''}</Empty>
        ) : null}
        {rows.length > 0 ? (
          <DataTable
            caption="Projects"
            rows={rows}
            rowKey={(p) => p.id}
            columns={[
              { id: 'repo', header: 'Repository', rowHeader: true, cell: (p) => <Link to={`/projects/${p.id}`}>{p.repository}</Link> },
              { id: 'trigger', header: 'Trigger label', cell: (p) => <code>{p.labels.trigger}</code> },
              { id: 'mode', header: 'Answers with', cell: (p) => p.answerMode.replace('_', ' ') },
              { id: 'concurrency', header: 'At once', cell: (p) => p.concurrency },
              { id: 'auth', header: 'Credentials', cell: (p) => (p.auth.kind === 'app' ? `GitHub App ${p.auth.appId}` : 'token') },
            ]}
          />
        ) : null}
        {projects.hasNextPage ? (
          <button type="button" onClick={() => void projects.fetchNextPage()} disabled={projects.isFetchingNextPage}>
            {projects.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        ) : null}
      </section>
      {creating ? (
        <ProjectForm
          onClose={() => setCreating(false)}
          onSaved={(p) => {
            void client.invalidateQueries({ queryKey: ['projects'] });
            navigate(`/projects/${p.id}`);
          }}
        />
      ) : null}
    </section>
  );
}

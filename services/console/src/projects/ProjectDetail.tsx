import { api, query } from '@console/api/client';
import type { Page, Project, Task, TaskStatus } from '@console/api/types';
import { Link, useRouter } from '@console/routing/router';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ConfirmDialog } from '@console/ui/Dialog';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { ProjectForm } from './ProjectForm';
import { STATUS_LABEL, STATUS_ORDER } from './project-model';
import { TaskQueue } from './TaskTable';

// One project: its settings (never its secrets), edit and delete for admins, its tasks by state.
export function ProjectDetail({ projectId }: { projectId: string }) {
  const { session } = useSession();
  const client = useQueryClient();
  const { navigate } = useRouter();
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => api<Project>(`/api/projects/${projectId}`) });
  const tasks = useInfiniteQuery({
    queryKey: ['project-tasks', projectId],
    queryFn: ({ pageParam }) => api<Page<Task>>(`/api/projects/${projectId}/tasks${query({ limit: 100, cursor: pageParam })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 10_000,
  });
  const [status, setStatus] = useState<TaskStatus | ''>('');
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const remove = useMutation({
    mutationFn: () => api(`/api/projects/${projectId}`, { method: 'DELETE' }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['projects'] });
      navigate('/projects');
    },
  });
  const all = useMemo(() => tasks.data?.pages.flatMap((p) => p.data) ?? [], [tasks.data]);
  const shown = status ? all.filter((t) => t.status === status) : all;
  const p = project.data;
  return (
    <section aria-labelledby="project-title" className="stack">
      <p className="small">
        <Link to="/projects">← Projects</Link>
      </p>
      {project.isPending ? <Loading label="Loading the project…" /> : null}
      {project.error ? <ErrorNotice error={project.error} onRetry={() => void project.refetch()} /> : null}
      {p ? (
        <>
          <div className="row between wrap">
            <h1 id="project-title">{p.repository}</h1>
            {can(session, 'manageProjects') ? (
              <div className="row">
                <button type="button" onClick={() => setEditing(true)}>
                  Edit
                </button>
                <button type="button" className="danger" onClick={() => setDeleting(true)}>
                  Delete
                </button>
              </div>
            ) : null}
          </div>
          <dl className="details card">
            <dt>Credentials</dt>
            <dd>{p.auth.kind === 'app' ? `GitHub App ${p.auth.appId}, installation ${p.auth.installationId}` : 'a token'} (never shown)</dd>
            <dt>Granted</dt>
            <dd>{p.permissions.length ? p.permissions.join(', ') : '—'}</dd>
            <dt>Base branch</dt>
            <dd>
              <code>{p.baseBranch}</code>
            </dd>
            <dt>Labels</dt>
            <dd>
              trigger <code>{p.labels.trigger}</code>, then <code>{p.labels.processing}</code>, <code>{p.labels.awaitingResponse}</code>,{' '}
              <code>{p.labels.completed}</code>, <code>{p.labels.failed}</code>
            </dd>
            <dt>Priorities</dt>
            <dd>{p.priorityLabels.map((l) => `${l.label} ${l.priority}`).join(' > ')}</dd>
            <dt>Answers with</dt>
            <dd>{p.answerMode.replace('_', ' ')}</dd>
            <dt>Tasks at once</dt>
            <dd>{p.concurrency}</dd>
          </dl>
        </>
      ) : null}
      <section aria-labelledby="tasks-title">
        <div className="row between wrap">
          <h2 id="tasks-title">Tasks</h2>
          <div className="field">
            <label htmlFor="task-status">State</label>
            <select id="task-status" value={status} onChange={(e) => setStatus(e.target.value as TaskStatus | '')}>
              <option value="">every state</option>
              {STATUS_ORDER.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </div>
        </div>
        {tasks.isPending ? <Loading label="Loading tasks…" /> : null}
        {tasks.error ? <ErrorNotice error={tasks.error} onRetry={() => void tasks.refetch()} /> : null}
        {tasks.isSuccess && shown.length === 0 ? (
          <Empty>
            {status ? `No ${STATUS_LABEL[status].toLowerCase()} tasks.` : `No tasks yet: label an issue with "${p?.labels.trigger ?? 'the trigger label'}".`}
          </Empty>
        ) : null}
        {shown.length > 0 ? <TaskQueue tasks={shown} projects={new Map(p ? [[p.id, p]] : [])} label="Tasks" /> : null}
        {tasks.hasNextPage ? (
          <button type="button" onClick={() => void tasks.fetchNextPage()} disabled={tasks.isFetchingNextPage}>
            {tasks.isFetchingNextPage ? 'Loading…' : 'Load older tasks'}
          </button>
        ) : null}
      </section>
      {editing && p ? (
        <ProjectForm
          project={p}
          onClose={() => setEditing(false)}
          onSaved={(saved) => {
            setEditing(false);
            client.setQueryData(['project', projectId], saved);
            void client.invalidateQueries({ queryKey: ['projects'] });
          }}
        />
      ) : null}
      {deleting && p ? (
        <ConfirmDialog
          title={`Delete ${p.repository}?`}
          message={
            <>
              <p>Its issues stop becoming tasks and its stored credentials are deleted. The repository on GitHub is not touched.</p>
              {remove.error ? <ErrorNotice error={remove.error} /> : null}
            </>
          }
          confirmLabel="Delete project"
          danger
          busy={remove.isPending}
          onConfirm={() => remove.mutate()}
          onCancel={() => (remove.reset(), setDeleting(false))}
        />
      ) : null}
    </section>
  );
}

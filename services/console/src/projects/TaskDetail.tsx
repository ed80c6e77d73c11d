import { api } from '@console/api/client';
import type { Project, Task } from '@console/api/types';
import { Link } from '@console/routing/router';
import { ErrorNotice, Loading } from '@console/ui/states';
import { useQuery } from '@tanstack/react-query';
import { issueUrl, priorityName, STATUS_LABEL } from './project-model';

// One task: its issue, state, priority and branch. The API reports no run or pull request for a
// task yet, so none is shown; the issue link is where its comments and pull request appear.
export function TaskDetail({ taskId }: { taskId: string }) {
  const task = useQuery({ queryKey: ['task', taskId], queryFn: () => api<Task>(`/api/tasks/${taskId}`), refetchInterval: 5000 });
  const projectId = task.data?.projectId;
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => api<Project>(`/api/projects/${projectId}`), enabled: Boolean(projectId) });
  const t = task.data;
  return (
    <section aria-labelledby="task-title" className="stack">
      <p className="small">{t ? <Link to={`/projects/${t.projectId}`}>← {t.repository}</Link> : <Link to="/projects">← Projects</Link>}</p>
      {task.isPending ? <Loading label="Loading the task…" /> : null}
      {task.error ? <ErrorNotice error={task.error} onRetry={() => void task.refetch()} /> : null}
      {t ? (
        <>
          <h1 id="task-title">
            #{t.issueNumber} {t.title}
          </h1>
          <dl className="details card">
            <dt>State</dt>
            <dd>
              <span className={`badge ${t.status}`}>{STATUS_LABEL[t.status]}</span>
            </dd>
            <dt>Priority</dt>
            <dd>{priorityName(t.priority, project.data)}</dd>
            <dt>Issue</dt>
            <dd>
              <a href={issueUrl(t)} target="_blank" rel="noreferrer noopener">
                {t.repository}#{t.issueNumber}
              </a>
            </dd>
            <dt>Branch</dt>
            <dd>
              <code>{t.branch}</code>
            </dd>
            <dt>Follow-ups waiting</dt>
            <dd>{t.pendingFollowUps}</dd>
            <dt>Created</dt>
            <dd>{new Date(t.createdAt).toLocaleString()}</dd>
            <dt>Updated</dt>
            <dd>{new Date(t.updatedAt).toLocaleString()}</dd>
          </dl>
        </>
      ) : null}
    </section>
  );
}

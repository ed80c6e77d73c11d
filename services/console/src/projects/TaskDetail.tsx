import { api } from '@console/api/client';
import type { Project, Task } from '@console/api/types';
import { Link } from '@console/routing/router';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ConfirmDialog } from '@console/ui/Dialog';
import { ErrorNotice, Loading } from '@console/ui/states';
import { RunTimeline } from '@console/workspace/RunTimeline';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { answerLink, isTaskFinished, issueUrl, priorityName, STATUS_LABEL, taskActions } from './project-model';

// One task: its issue, state, priority, branch, the pull request or comment that answered it, why
// it failed, and its run's steps (the app workspace's timeline); cancel and retry for members.
export function TaskDetail({ taskId }: { taskId: string }) {
  const client = useQueryClient();
  const task = useQuery({
    queryKey: ['task', taskId],
    queryFn: () => api<Task>(`/api/tasks/${taskId}`),
    // A finished task changes only by a retry, which answers the new task itself; one awaiting a
    // response is queued again by the reply.
    refetchInterval: (q) => (q.state.data && isTaskFinished(q.state.data.status) ? false : 5000),
  });
  const projectId = task.data?.projectId;
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => api<Project>(`/api/projects/${projectId}`), enabled: Boolean(projectId) });
  const { session } = useSession();
  const t = task.data;
  const answer = t ? answerLink(t) : null;
  return (
    <section aria-labelledby="task-title" className="stack">
      <p className="small">{t ? <Link to={`/projects/${t.projectId}`}>← {t.repository}</Link> : <Link to="/projects">← Projects</Link>}</p>
      {task.isPending ? <Loading label="Loading the task…" /> : null}
      {task.error ? <ErrorNotice error={task.error} onRetry={() => void task.refetch()} /> : null}
      {t ? (
        <>
          <div className="row between wrap">
            <h1 id="task-title">
              #{t.issueNumber} {t.title}
            </h1>
            {can(session, 'manageTasks') ? <TaskActions task={t} /> : null}
          </div>
          <dl className="details card">
            <dt>State</dt>
            <dd>
              <span className={`badge ${t.status}`}>{STATUS_LABEL[t.status]}</span>
            </dd>
            {t.errorCode || t.errorMessage ? (
              <>
                <dt>Failure</dt>
                <dd className="error-text" data-testid="task-failure">
                  {t.errorCode ? <code>{t.errorCode}</code> : null}
                  {t.errorCode && t.errorMessage ? ': ' : null}
                  {t.errorMessage}
                </dd>
              </>
            ) : null}
            <dt>Answer</dt>
            <dd>
              {answer ? (
                <a href={answer.href} target="_blank" rel="noreferrer noopener">
                  {answer.label}
                </a>
              ) : (
                <span className="muted">none yet</span>
              )}
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
            <dt>Attempts</dt>
            <dd>{t.attempts}</dd>
            <dt>Follow-ups waiting</dt>
            <dd>{t.pendingFollowUps}</dd>
            <dt>Created</dt>
            <dd>{new Date(t.createdAt).toLocaleString()}</dd>
            <dt>Updated</dt>
            <dd>{new Date(t.updatedAt).toLocaleString()}</dd>
          </dl>
          {t.runId && can(session, 'readRuns') ? (
            // A retry or a resume may work the same run again: a new attempt starts a fresh timeline.
            <RunTimeline
              key={`${t.runId}:${t.attempts}`}
              runId={t.runId}
              cancellable={false}
              onFinished={() => void client.invalidateQueries({ queryKey: ['task', taskId] })}
            />
          ) : (
            <p className="muted">{t.runId ? `Run ${t.runId}` : t.status === 'queued' ? 'No run yet: the task waits for a worker.' : 'No run.'}</p>
          )}
        </>
      ) : null}
    </section>
  );
}

// Cancel (queued or running, after a confirmation) and retry (failed or cancelled); a refusal
// shows the API's message and correlation id.
function TaskActions({ task }: { task: Task }) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const onDone = (updated: Task) => {
    client.setQueryData(['task', task.id], updated);
    setConfirming(false);
    void client.invalidateQueries({ queryKey: ['tasks'] });
    void client.invalidateQueries({ queryKey: ['project-tasks', task.projectId] });
  };
  const cancel = useMutation({ mutationFn: () => api<Task>(`/api/tasks/${task.id}/cancel`, { method: 'POST', body: {} }), onSuccess: onDone });
  const retry = useMutation({ mutationFn: () => api<Task>(`/api/tasks/${task.id}/retry`, { method: 'POST', body: {} }), onSuccess: onDone });
  const { canCancel, canRetry } = taskActions(task.status);
  const error = cancel.error ?? retry.error;
  return (
    <div className="stack">
      <div className="row end">
        {canCancel ? (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Cancel task
          </button>
        ) : null}
        {canRetry ? (
          <button type="button" className="primary" onClick={() => retry.mutate()} disabled={retry.isPending}>
            {retry.isPending ? 'Retrying…' : 'Retry task'}
          </button>
        ) : null}
      </div>
      {error && !confirming ? <ErrorNotice error={error} /> : null}
      {confirming ? (
        <ConfirmDialog
          title="Cancel this task?"
          message={
            <>
              <p>
                {task.status === 'running' ? 'Its run stops' : 'It leaves the queue'}; the issue&apos;s status comment says it was cancelled. A retry queues it
                again on the same branch.
              </p>
              {cancel.error ? <ErrorNotice error={cancel.error} /> : null}
            </>
          }
          confirmLabel="Cancel task"
          danger
          busy={cancel.isPending}
          onConfirm={() => cancel.mutate()}
          onCancel={() => {
            cancel.reset();
            setConfirming(false);
          }}
        />
      ) : null}
    </div>
  );
}

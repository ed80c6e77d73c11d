import type { AnswerMode, Project, Task, TaskStatus } from '@console/api/types';

// The order a queue is read in: what is moving first, what is done last.
export const STATUS_ORDER: TaskStatus[] = ['running', 'queued', 'awaiting_response', 'failed', 'completed', 'cancelled'];

export const STATUS_LABEL: Record<TaskStatus, string> = {
  running: 'Running',
  queued: 'Queued',
  awaiting_response: 'Awaiting response',
  failed: 'Failed',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

// Tasks grouped by state (in STATUS_ORDER), each group highest priority first, then oldest first
// (the order the scheduler takes them in).
export function groupTasks(tasks: Task[]): Array<{ status: TaskStatus; tasks: Task[] }> {
  return STATUS_ORDER.map((status) => ({
    status,
    tasks: tasks.filter((t) => t.status === status).sort((a, b) => b.priority - a.priority || a.createdAt.localeCompare(b.createdAt)),
  })).filter((g) => g.tasks.length > 0);
}

// The project's name for a priority (its priority labels), else the number.
export function priorityName(priority: number, project?: Pick<Project, 'priorityLabels'>): string {
  const label = project?.priorityLabels.find((p) => p.priority === priority)?.label;
  return label ? `${label} (${priority})` : String(priority);
}

export function issueUrl(task: Pick<Task, 'repository' | 'issueNumber'>): string {
  return `https://github.com/${task.repository}/issues/${task.issueNumber}`;
}

// Queued or running: what a cancel stops.
export function isTaskActive(status: TaskStatus): boolean {
  return status === 'queued' || status === 'running';
}

// Completed, failed or cancelled: only a retry moves it again.
export function isTaskFinished(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

// What the API lets a member do with a task in this state (anything else answers 409).
export function taskActions(status: TaskStatus): { canCancel: boolean; canRetry: boolean } {
  return { canCancel: isTaskActive(status), canRetry: status === 'failed' || status === 'cancelled' };
}

// The pull request or comment that answered the issue, as a link; only http(s) addresses are
// followed, whatever the API carries.
export function answerLink(task: Pick<Task, 'answerUrl' | 'pullNumber'>): { href: string; label: string } | null {
  if (!task.answerUrl) return null;
  let url: URL;
  try {
    url = new URL(task.answerUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  return { href: url.href, label: task.pullNumber ? `Pull request #${task.pullNumber}` : 'Comment on the issue' };
}

export interface ProjectFormValues {
  repository: string;
  authKind: 'token' | 'app';
  token: string;
  appId: string;
  installationId: string;
  privateKey: string;
  baseBranch: string;
  answerMode: AnswerMode;
  concurrency: string;
  triggerLabel: string;
}

export function formValues(project?: Project): ProjectFormValues {
  // Secrets start empty: the API never answers them, and an empty field means "unchanged".
  return {
    repository: project?.repository ?? '',
    authKind: project?.auth.kind ?? 'token',
    token: '',
    appId: project?.auth.appId ? String(project.auth.appId) : '',
    installationId: project?.auth.installationId ? String(project.auth.installationId) : '',
    privateKey: '',
    baseBranch: project?.baseBranch ?? 'main',
    answerMode: (project?.answerMode as AnswerMode | undefined) ?? 'auto',
    concurrency: String(project?.concurrency ?? 2),
    triggerLabel: project?.labels.trigger ?? 'overskill',
  };
}

// POST /api/projects body.
export function createBody(v: ProjectFormValues): Record<string, unknown> {
  const auth =
    v.authKind === 'token'
      ? { kind: 'token', token: v.token }
      : { kind: 'app', appId: Number(v.appId), installationId: Number(v.installationId), privateKey: v.privateKey };
  return {
    repository: v.repository.trim(),
    auth,
    baseBranch: v.baseBranch.trim(),
    answerMode: v.answerMode,
    concurrency: Number(v.concurrency),
    labels: { trigger: v.triggerLabel.trim() },
  };
}

// PATCH /api/projects/:id body: only what changed; a secret only when a new one was typed.
export function updateBody(project: Project, v: ProjectFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (v.baseBranch.trim() !== project.baseBranch) body['baseBranch'] = v.baseBranch.trim();
  if (v.answerMode !== project.answerMode) body['answerMode'] = v.answerMode;
  if (Number(v.concurrency) !== project.concurrency) body['concurrency'] = Number(v.concurrency);
  if (v.triggerLabel.trim() !== project.labels.trigger) body['labels'] = { trigger: v.triggerLabel.trim() };
  if (project.auth.kind === 'token' && v.token) body['token'] = v.token;
  if (project.auth.kind === 'app' && v.privateKey) body['privateKey'] = v.privateKey;
  return body;
}

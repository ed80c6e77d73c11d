import type { Project, Task } from '@console/api/types';

// Test data for the project and task screens' tests.
export const PROJECT_ID = '33333333-3333-4333-8333-333333333333';

export const projectFixture: Project = {
  id: PROJECT_ID,
  repository: 'acme/shop',
  auth: { kind: 'token', appId: null, installationId: null },
  labels: { trigger: 'overskill', processing: 'processing', awaitingResponse: 'awaiting-response', completed: 'completed', failed: 'failed' },
  priorityLabels: [
    { label: 'urgent', priority: 100 },
    { label: 'normal', priority: 50 },
  ],
  baseBranch: 'main',
  answerMode: 'auto',
  concurrency: 2,
  permissions: ['issues=write', 'pull_requests=write'],
  createdAt: '2026-03-01T00:00:00Z',
  updatedAt: '2026-03-01T00:00:00Z',
};

// A task of that project: issue n, nothing worked yet unless overridden.
export function taskFixture(n: number, overrides: Partial<Task> = {}): Task {
  return {
    id: `44444444-4444-4444-8444-${String(n).padStart(12, '0')}`,
    projectId: PROJECT_ID,
    repository: 'acme/shop',
    issueNumber: n,
    title: `Issue ${n}`,
    status: 'queued',
    priority: 50,
    branch: `overskill/issue-${n}`,
    pendingFollowUps: 0,
    runId: null,
    pullNumber: null,
    answerUrl: null,
    errorCode: null,
    errorMessage: null,
    attempts: 0,
    createdAt: '2026-03-01T00:00:00Z',
    updatedAt: '2026-03-01T00:00:00Z',
    ...overrides,
  };
}

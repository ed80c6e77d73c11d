import { Injectable } from '@nestjs/common';
import { taskView, type orchestratorV1 } from '@overskill/contracts';
import type { z } from 'zod';
import type { Principal } from '../routing/access';
import type { CreateProjectBody, PageQuery, Task, UpdateProjectBody } from '../routing/schemas';
import { ProjectsRepository } from './projects.repository';

// GitHub projects and their tasks as the API shows them, scoped to the key's team.
@Injectable()
export class ProjectsApiService {
  constructor(private readonly projects: ProjectsRepository) {}

  async listProjects(principal: Principal, query: z.infer<typeof PageQuery>) {
    const page = await this.projects.list({ teamId: principal.teamId, pageSize: query.limit, pageToken: query.cursor });
    return { data: page.projects.map(projectJson), nextCursor: page.nextPageToken || null };
  }

  async createProject(principal: Principal, body: z.infer<typeof CreateProjectBody>) {
    const auth =
      body.auth.kind === 'token'
        ? { authKind: 'token', token: body.auth.token }
        : { authKind: 'app', githubAppId: BigInt(body.auth.appId), installationId: BigInt(body.auth.installationId), privateKey: body.auth.privateKey };
    const created = await this.projects.create({ teamId: principal.teamId, repository: body.repository, ...auth, ...settings(body) });
    return projectJson(created);
  }

  async getProject(principal: Principal, projectId: string) {
    return projectJson(await this.projects.get({ teamId: principal.teamId, projectId }));
  }

  async updateProject(principal: Principal, projectId: string, body: z.infer<typeof UpdateProjectBody>) {
    const updated = await this.projects.update({
      teamId: principal.teamId,
      projectId,
      ...settings(body),
      replacePriorityLabels: body.priorityLabels !== undefined,
      token: body.token,
      privateKey: body.privateKey,
    });
    return projectJson(updated);
  }

  async listTasks(principal: Principal, projectId: string, query: z.infer<typeof PageQuery>) {
    const page = await this.projects.listTasks({ teamId: principal.teamId, projectId, pageSize: query.limit, pageToken: query.cursor });
    return { data: page.tasks.map(taskJson), nextCursor: page.nextPageToken || null };
  }

  async getTask(principal: Principal, taskId: string) {
    return taskJson(await this.projects.getTask({ teamId: principal.teamId, taskId }));
  }

  async cancelTask(principal: Principal, taskId: string) {
    return taskJson(await this.projects.cancelTask({ teamId: principal.teamId, taskId }));
  }

  async retryTask(principal: Principal, taskId: string) {
    return taskJson(await this.projects.retryTask({ teamId: principal.teamId, taskId }));
  }

  async runningTasks(principal: Principal) {
    return { data: (await this.projects.runningTasks({ teamId: principal.teamId })).tasks.map(taskJson) };
  }

  async deleteProject(principal: Principal, projectId: string) {
    const deleted = await this.projects.delete({ teamId: principal.teamId, projectId });
    return { id: deleted.projectId || projectId, deleted: true as const };
  }
}

function settings(body: Partial<z.infer<typeof CreateProjectBody>>) {
  const labels = body.labels;
  return {
    ...(labels
      ? {
          labels: {
            trigger: labels.trigger ?? '',
            processing: labels.processing ?? '',
            awaitingResponse: labels.awaitingResponse ?? '',
            completed: labels.completed ?? '',
            failed: labels.failed ?? '',
          },
        }
      : {}),
    priorityLabels: body.priorityLabels ?? [],
    baseBranch: body.baseBranch,
    answerMode: body.answerMode,
    concurrency: body.concurrency,
  };
}

export function projectJson(p: orchestratorV1.Project) {
  const app = p.authKind === 'app';
  return {
    id: p.id,
    repository: p.repository,
    auth: {
      kind: app ? ('app' as const) : ('token' as const),
      appId: app ? Number(p.githubAppId) : null,
      installationId: app ? Number(p.installationId) : null,
    },
    labels: {
      trigger: p.labels?.trigger ?? '',
      processing: p.labels?.processing ?? '',
      awaitingResponse: p.labels?.awaitingResponse ?? '',
      completed: p.labels?.completed ?? '',
      failed: p.labels?.failed ?? '',
    },
    priorityLabels: p.priorityLabels.map((l) => ({ label: l.label, priority: l.priority })),
    baseBranch: p.baseBranch,
    answerMode: p.answerMode,
    concurrency: p.concurrency,
    permissions: [...p.permissions],
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

// The orchestrator writes only the statuses the schema lists.
export function taskJson(t: orchestratorV1.Task) {
  return { ...taskView(t), status: t.status as z.infer<typeof Task>['status'] };
}

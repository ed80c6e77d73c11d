import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { decodePageToken, pageSize, paginate } from '../common/page-token';
import type { TaskEntity } from '../persistence/entities';
import { ProjectsRepository } from '../projects/projects.repository';
import { TasksRepository } from './tasks.repository';

@Injectable()
export class TasksService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly projects: ProjectsRepository,
  ) {}

  async list(req: RpcRequest<typeof Rpc.taskList>): Promise<RpcReply<typeof Rpc.taskList>> {
    if (!isEntityId(req.projectId) || !(await this.projects.findForTeam(req.teamId, req.projectId))) {
      throw new AppError(ErrorCode.PROJECT_NOT_FOUND, `Project ${req.projectId.slice(0, 64)} not found`);
    }
    const limit = pageSize(req.pageSize);
    const rows = await this.tasks.listForProject(req.teamId, req.projectId, limit + 1, decodePageToken(req.pageToken));
    const { page, nextPageToken } = paginate(rows, limit);
    return { tasks: page.map(toTask), nextPageToken };
  }

  async get(req: RpcRequest<typeof Rpc.taskGet>): Promise<RpcReply<typeof Rpc.taskGet>> {
    const task = isEntityId(req.taskId) ? await this.tasks.findForTeam(req.teamId, req.taskId) : null;
    if (!task) throw new AppError(ErrorCode.TASK_NOT_FOUND, `Task ${req.taskId.slice(0, 64)} not found`);
    return toTask(task);
  }

  // Idempotent: a finished task is answered as it is.
  async cancel(req: RpcRequest<typeof Rpc.taskCancel>): Promise<RpcReply<typeof Rpc.taskCancel>> {
    const task = isEntityId(req.taskId) ? await this.tasks.cancel(req.teamId, req.taskId) : null;
    if (!task) throw notFound(req.taskId);
    return toTask(task);
  }

  async retry(req: RpcRequest<typeof Rpc.taskRetry>): Promise<RpcReply<typeof Rpc.taskRetry>> {
    const task = isEntityId(req.taskId) ? await this.tasks.findForTeam(req.teamId, req.taskId) : null;
    if (!task) throw notFound(req.taskId);
    const outcome = await this.tasks.retry(req.teamId, task.id);
    if (outcome === 'active')
      throw new AppError(ErrorCode.TASK_NOT_RETRYABLE, `Issue #${task.issueNumber} has another active task; cancel it first or let it finish`);
    if (outcome === 'not_ended') throw new AppError(ErrorCode.TASK_NOT_RETRYABLE, `The task is ${task.status}; only a failed or cancelled task can be retried`);
    return toTask((await this.tasks.findForTeam(req.teamId, task.id)) ?? task);
  }

  async running(req: RpcRequest<typeof Rpc.taskRunning>): Promise<RpcReply<typeof Rpc.taskRunning>> {
    return { tasks: (await this.tasks.listActive(req.teamId, 500)).map(toTask) };
  }
}

function toTask(t: TaskEntity): RpcReply<typeof Rpc.taskGet> {
  return {
    id: t.id,
    teamId: t.teamId,
    projectId: t.projectId,
    repository: t.repository,
    issueNumber: t.issueNumber,
    title: t.title,
    status: t.status,
    priority: t.priority,
    branch: t.branch,
    pendingFollowUps: t.pendingFollowUps,
    deliveryId: t.deliveryId,
    runId: t.runId ?? '',
    pullNumber: t.pullNumber ?? 0,
    answerUrl: t.answerUrl ?? '',
    errorCode: t.errorCode ?? '',
    errorMessage: t.errorMessage ?? '',
    attempts: t.attempts,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

function notFound(taskId: string): AppError {
  return new AppError(ErrorCode.TASK_NOT_FOUND, `Task ${taskId.slice(0, 64)} not found`);
}

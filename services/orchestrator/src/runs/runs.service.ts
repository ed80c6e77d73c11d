import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, orchestratorV1, type Rpc, isEntityId } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { AppsService } from '../apps/apps.service';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import type { RunEntity, RunStatusName } from '../persistence/entities';
import { RunQueueRepository } from './run-queue.repository';
import { RunsRepository } from './runs.repository';

export const RUN_STATUS: Record<RunStatusName, orchestratorV1.RunStatus> = {
  queued: orchestratorV1.RunStatus.QUEUED,
  running: orchestratorV1.RunStatus.RUNNING,
  completed: orchestratorV1.RunStatus.COMPLETED,
  failed: orchestratorV1.RunStatus.FAILED,
  cancelled: orchestratorV1.RunStatus.CANCELLED,
};

@Injectable()
export class RunsService {
  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly apps: AppsService,
    private readonly runs: RunsRepository,
    private readonly queue: RunQueueRepository,
  ) {}

  async postMessage(req: RpcRequest<typeof Rpc.messagePost>): Promise<RpcReply<typeof Rpc.messagePost>> {
    const content = req.content.trim();
    if (!content) throw new AppError(ErrorCode.VALIDATION_FAILED, 'The message is empty; say what the app should do');
    if (content.length > this.env.MESSAGE_MAX_CHARS) {
      throw new AppError(ErrorCode.MESSAGE_TOO_LARGE, `The message is ${content.length} characters; the limit is ${this.env.MESSAGE_MAX_CHARS}`);
    }
    const app = await this.apps.requireApp(req.teamId, req.appId);
    const { messageId, runId } = await this.runs.insertMessageWithRun({ appId: app.id, teamId: app.teamId, content, authorId: req.authorId });
    try {
      await this.queue.enqueue({ runId, appId: app.id, teamId: app.teamId });
    } catch {
      await this.runs.finish(runId, 'failed', { errorCode: ErrorCode.DEPENDENCY_UNAVAILABLE, errorMessage: 'The run queue (JetStream) is unavailable; send the message again', iterations: 0 });
      throw new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The run queue is unavailable; the message was stored but not started. Try again.');
    }
    return { messageId, runId };
  }

  async get(req: RpcRequest<typeof Rpc.runGet>): Promise<RpcReply<typeof Rpc.runGet>> {
    const run = isEntityId(req.runId) ? await this.runs.findRunForTeam(req.teamId, req.runId) : null;
    if (!run) throw new AppError(ErrorCode.RUN_NOT_FOUND, `Run ${req.runId.slice(0, 64)} not found`);
    const steps = await this.runs.listSteps(run.id);
    return {
      ...toRunFields(run),
      steps: steps.map((s) => ({ id: s.id, seq: s.seq, kind: s.kind, summary: s.summary, createdAt: s.createdAt.toISOString() })),
    };
  }
}

function toRunFields(run: RunEntity) {
  return {
    id: run.id,
    appId: run.appId,
    teamId: run.teamId,
    status: RUN_STATUS[run.status],
    errorCode: run.errorCode ?? '',
    errorMessage: run.errorMessage ?? '',
    commitSha: run.commitSha ?? '',
    iterations: run.iterations,
    createdAt: run.createdAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? '',
  };
}

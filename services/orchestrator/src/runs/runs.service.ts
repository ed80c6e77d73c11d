import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE, type Rpc, isEntityId } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { AppsService, appNotFound } from '../apps/apps.service';
import { decodePageToken, pageSize, paginate } from '../common/page-token';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import type { MessageEntity, RunEntity } from '../persistence/entities';
import { RunQueueRepository } from './run-queue.repository';
import { toRunEvent } from './run-event';
import { RUN_STATUS, TERMINAL } from './run-status';
import { cancelMessage, RunsRepository } from './runs.repository';

export { RUN_STATUS, TERMINAL };

const EVENTS_LIMIT_DEFAULT = 100;
const EVENTS_LIMIT_MAX = 1000;
const CANCEL_REASON_MAX = 500;
// How long an Idempotency-Key names its message; after that the key may start a new run.
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

@Injectable()
export class RunsService {
  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly apps: AppsService,
    private readonly runs: RunsRepository,
    private readonly queue: RunQueueRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async postMessage(req: RpcRequest<typeof Rpc.messagePost>): Promise<RpcReply<typeof Rpc.messagePost>> {
    const content = req.content.trim();
    if (!content) throw new AppError(ErrorCode.VALIDATION_FAILED, 'The message is empty; say what the app should do');
    if (content.length > this.env.MESSAGE_MAX_CHARS) {
      throw new AppError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `The message is ${content.length} characters; the limit is ${this.env.MESSAGE_MAX_CHARS}. Split it or attach less text.`,
      );
    }
    const key = req.idempotencyKey;
    if (key && !IDEMPOTENCY_KEY_PATTERN.test(key)) throw new AppError(ErrorCode.VALIDATION_FAILED, IDEMPOTENCY_KEY_RULE);
    const { teamId, appId } = req;
    if (!isEntityId(appId)) throw appNotFound(appId);
    // The insert reads the app itself; a keyed post first looks for its earlier message, which
    // only an app of the team can have (a task's workspace is never posted to).
    const earlier = key ? await this.replay(teamId, appId, key, content) : undefined;
    if (earlier) return earlier;
    const created = await this.runs.insertMessageWithRun({
      appId,
      teamId,
      content,
      authorId: req.authorId.slice(0, 100),
      idempotencyKey: key,
      keyWindowMs: IDEMPOTENCY_WINDOW_MS,
    });
    if (created === 'no-app') throw appNotFound(appId);
    if (!created) {
      // Another post of the same key committed first: answer as it did.
      const winner = key ? await this.replay(teamId, appId, key, content) : undefined;
      if (!winner) throw new AppError(ErrorCode.INTERNAL, 'The message could not be stored; send it again');
      return winner;
    }
    await this.enqueue(created.runId, appId, teamId, created.enqueueToken);
    return { messageId: created.messageId, runId: created.runId, replayed: false };
  }

  // The answer to an earlier post of this key: the same message and run. A run no worker has
  // started (still queued, or refused at the queue) is queued again under a new msg-id: the first
  // request may never have reached the stream, or been dropped while the run was marked refused;
  // a worker claims a run once, so extra deliveries are dropped.
  private async replay(teamId: string, appId: string, key: string, content: string): Promise<RpcReply<typeof Rpc.messagePost> | undefined> {
    const message = await this.runs.findKeyedMessage(teamId, appId, key, IDEMPOTENCY_WINDOW_MS);
    if (!message?.runId) return undefined;
    if (message.content !== content) {
      throw new AppError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        'This Idempotency-Key was used in the last 24 hours for a different message; send a new key with a new message',
        {
          messageId: message.id,
        },
      );
    }
    const enqueueToken = await this.runs.requeueUnstarted(message.runId, ErrorCode.DEPENDENCY_UNAVAILABLE);
    if (enqueueToken) await this.enqueue(message.runId, appId, teamId, enqueueToken, true);
    return { messageId: message.id, runId: message.runId, replayed: true };
  }

  // The first request of a run has the run id as msg-id (JetStream drops a repeated publish);
  // a repeated post's has its own. A failed publish marks the run refused unless a later attempt
  // has queued it meanwhile (the enqueue token).
  private async enqueue(runId: string, appId: string, teamId: string, enqueueToken: string, repeated = false): Promise<void> {
    try {
      await this.queue.enqueue({ runId, appId, teamId }, repeated ? enqueueToken : undefined);
    } catch {
      await this.runs.refuseQueued(runId, enqueueToken, ErrorCode.DEPENDENCY_UNAVAILABLE, 'The run queue (JetStream) is unavailable; send the message again');
      throw new AppError(
        ErrorCode.DEPENDENCY_UNAVAILABLE,
        'The run queue is unavailable; the message was stored but not started. Try again (with the same Idempotency-Key).',
      );
    }
  }

  async listMessages(req: RpcRequest<typeof Rpc.messageList>): Promise<RpcReply<typeof Rpc.messageList>> {
    const limit = pageSize(req.pageSize);
    const cursor = decodePageToken(req.pageToken);
    const app = await this.apps.requireApp(req.teamId, req.appId);
    const { page, nextPageToken } = paginate(await this.runs.listMessages(app.id, limit + 1, cursor), limit);
    return { messages: page.map(toMessageRecord), nextPageToken };
  }

  async get(req: RpcRequest<typeof Rpc.runGet>): Promise<RpcReply<typeof Rpc.runGet>> {
    const run = await this.requireRun(req.teamId, req.runId);
    const steps = await this.runs.listSteps(run.id);
    return {
      ...toRunFields(run),
      steps: steps.map((s) => ({ id: s.id, seq: s.seq, kind: s.kind, summary: s.summary, createdAt: s.createdAt.toISOString() })),
    };
  }

  async list(req: RpcRequest<typeof Rpc.runList>): Promise<RpcReply<typeof Rpc.runList>> {
    const limit = pageSize(req.pageSize);
    const cursor = decodePageToken(req.pageToken);
    const appId = req.appId ? (await this.apps.requireApp(req.teamId, req.appId)).id : undefined;
    const { page, nextPageToken } = paginate(await this.runs.listRuns(req.teamId, appId, limit + 1, cursor), limit);
    return { runs: page.map((run) => ({ ...toRunFields(run), steps: [] })), nextPageToken };
  }

  // Idempotent. A queued run ends now; a running one is marked and its loop stops at the next
  // step boundary; a finished one is answered as it is.
  async cancel(req: RpcRequest<typeof Rpc.runCancel>): Promise<RpcReply<typeof Rpc.runCancel>> {
    if (req.reason.length > CANCEL_REASON_MAX) throw new AppError(ErrorCode.VALIDATION_FAILED, `reason must be at most ${CANCEL_REASON_MAX} characters`);
    const run = await this.requireRun(req.teamId, req.runId);
    const reason = req.reason.trim();
    if (run.status === 'queued' && (await this.runs.cancelQueued(run.id, reason))) {
      // No worker has touched it, so this is its first and last event.
      const step = await this.runs.appendStep(
        run.id,
        'run_cancelled',
        cancelMessage(reason),
        { errorCode: ErrorCode.RUN_CANCELLED, requestedBy: req.requestedBy.slice(0, 100) },
        'cancelled',
      );
      this.queue.publishProgress({
        runId: run.id,
        seq: step.seq,
        kind: step.kind,
        summary: step.summary,
        status: RUN_STATUS.cancelled,
        createdAt: step.createdAt.toISOString(),
      });
      await this.queue
        .publishFinished({
          runId: run.id,
          appId: run.appId,
          teamId: run.teamId,
          status: RUN_STATUS.cancelled,
          iterations: 0,
          commitSha: '',
          errorCode: ErrorCode.RUN_CANCELLED,
        })
        .catch((err: unknown) => this.logger.warn({ err, runId: run.id }, 'could not publish run.finished'));
    } else if (!TERMINAL.has(run.status)) {
      await this.runs.requestCancel(run.id, reason);
    }
    return { ...toRunFields((await this.runs.findRunForTeam(req.teamId, run.id)) ?? run), steps: [] };
  }

  // Replay for SSE Last-Event-ID: the persisted steps are the very values that were published.
  async listEvents(req: RpcRequest<typeof Rpc.runEventsList>): Promise<RpcReply<typeof Rpc.runEventsList>> {
    if (!Number.isInteger(req.afterSeq) || req.afterSeq < 0) throw new AppError(ErrorCode.VALIDATION_FAILED, 'after_seq must be 0 or a positive event id');
    if (req.limit < 0 || req.limit > EVENTS_LIMIT_MAX)
      throw new AppError(ErrorCode.VALIDATION_FAILED, `limit must be 1 to ${EVENTS_LIMIT_MAX} (0 = ${EVENTS_LIMIT_DEFAULT})`);
    const limit = req.limit || EVENTS_LIMIT_DEFAULT;
    // The run first: a finished run's final step was written before its status, so the
    // steps read next include it.
    const run = await this.requireRun(req.teamId, req.runId);
    const steps = await this.runs.listStepsAfter(run.id, req.afterSeq, limit + 1);
    const page = steps.slice(0, limit);
    return { events: page.map((s) => toRunEvent(run.id, s)), status: RUN_STATUS[run.status], complete: TERMINAL.has(run.status) && steps.length <= limit };
  }

  private async requireRun(teamId: string, runId: string): Promise<RunEntity> {
    const run = isEntityId(runId) ? await this.runs.findRunForTeam(teamId, runId) : null;
    if (!run) throw new AppError(ErrorCode.RUN_NOT_FOUND, `Run ${runId.slice(0, 64)} not found`);
    return run;
  }
}

function toMessageRecord(m: MessageEntity) {
  return { id: m.id, appId: m.appId, role: m.role, content: m.content, authorId: m.authorId, runId: m.runId ?? '', createdAt: m.createdAt.toISOString() };
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
    inputTokens: BigInt(run.inputTokens),
    outputTokens: BigInt(run.outputTokens),
    costUsd: Number(run.costUsd),
  };
}

import { Inject, Injectable } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { AppError, ErrorCode, Rpc, aiV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import type { RunStatusName } from '../persistence/entities';
import { RunQueueRepository } from './run-queue.repository';
import { cancelMessage, RunsRepository } from './runs.repository';
import { AppsRepository } from '../apps/apps.repository';
import { RUN_STATUS, TERMINAL } from './runs.service';

type ChatMessageInit = MessageInitShape<typeof aiV1.ChatMessageSchema>;

const SYSTEM_PROMPT = [
  'You are overskill, an agent that builds and changes web apps in a git-backed workspace.',
  'Act only through the tools you are given. Write complete files. Keep the app working after every change.',
  'When the request is done, answer with a short summary of what you changed.',
].join('\n');

// The run's row is gone: its app was deleted mid-run.
class RunDeleted extends Error {}

// One run: ask the model, execute the tools it asks for, feed the results back, until it ends
// its turn; then one commit. Every step is checkpointed before the next one starts.
// (Resume-from-checkpoint, budgets, loop detection and cancel land with the orchestrator issue.)
@Injectable()
export class AgentLoopService {
  private readonly finished: Counter<'status'>;

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly runs: RunsRepository,
    private readonly apps: AppsRepository,
    private readonly queue: RunQueueRepository,
    private readonly rpc: NatsRpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    this.finished = new Counter({ name: 'runs_total', help: 'Finished runs by final status', labelNames: ['status'], registers: [metrics.registry] });
  }

  async execute(runId: string): Promise<void> {
    const run = await this.runs.findRun(runId);
    if (!run) {
      this.logger.warn({ runId }, 'run requested but not found; dropping');
      return;
    }
    if (TERMINAL.has(run.status)) return; // a redelivery of a finished run
    const message = await this.runs.findMessage(run.messageId);
    if (!message) return this.finish(run, 'failed', 0, { errorCode: ErrorCode.INTERNAL, errorMessage: 'The request message is missing' });

    const app = await this.apps.findById(run.appId);
    if (!app) return; // deleted with its runs
    const maxIterations = app.maxIterations || this.env.RUN_MAX_ITERATIONS;
    await this.runs.markRunning(run.id);
    await this.step(run.id, 'run_started', 'Run started', {}, 'running');
    let iterations = 0;
    let finalText = '';
    try {
      const catalog = await this.rpc.send(Rpc.toolCatalogList, {}, { tenantId: run.teamId });
      const tools = catalog.tools.map((t) => ({ name: t.name, description: t.description, inputSchemaJson: t.inputSchemaJson }));
      const conversation: ChatMessageInit[] = [{ role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text: message.content } } }] }];

      for (;;) {
        await this.checkpoint(run.id);
        if (iterations >= maxIterations) {
          throw new AppError(ErrorCode.RUN_MAX_ITERATIONS, `Stopped after ${iterations} model turns (the limit); the work so far is committed`);
        }
        iterations += 1;
        const completion = await this.rpc.send(
          Rpc.aiCompletionCreate,
          { teamId: run.teamId, appId: run.appId, runId: run.id, modelAlias: 'primary', system: SYSTEM_PROMPT, messages: conversation, tools, maxTokens: 8192 },
          { timeoutMs: 300_000, tenantId: run.teamId },
        );
        const toolUses = completion.content.flatMap((b) => (b.block.case === 'toolUse' ? [b.block.value] : []));
        const text = completion.content.flatMap((b) => (b.block.case === 'text' ? [b.block.value.text] : [])).join('\n');
        await this.step(run.id, 'model_call', text.slice(0, 500) || `${toolUses.length} tool call(s)`, {
          model: completion.model,
          stopReason: completion.stopReason,
          toolCalls: toolUses.map((t) => ({ id: t.id, name: t.name })),
          usage: { input: Number(completion.usage?.inputTokens ?? 0n), output: Number(completion.usage?.outputTokens ?? 0n) },
        });
        conversation.push({ role: aiV1.Role.ASSISTANT, content: completion.content });
        if (text) finalText = text;
        if (completion.stopReason !== 'tool_use' || toolUses.length === 0) break;

        const results = [];
        for (const use of toolUses) {
          await this.checkpoint(run.id);
          const result = await this.rpc.send(
            Rpc.toolCallExecute,
            { teamId: run.teamId, appId: run.appId, runId: run.id, toolUseId: use.id, name: use.name, inputJson: use.inputJson },
            { timeoutMs: 120_000, tenantId: run.teamId },
          );
          await this.step(run.id, 'tool_call', `${use.name}: ${result.output.slice(0, 200)}`, { toolUseId: use.id, name: use.name, isError: result.isError, errorCode: result.errorCode });
          results.push({ block: { case: 'toolResult' as const, value: { toolUseId: use.id, content: result.output, isError: result.isError } } });
        }
        conversation.push({ role: aiV1.Role.USER, content: results });
      }

      const commit = await this.commit(run.appId, message.content, run.teamId);
      await this.step(run.id, 'commit', commit.created ? `Committed ${commit.sha.slice(0, 12)}` : 'No file changes to commit', { sha: commit.sha, created: commit.created });
      await this.finish(run, 'completed', iterations, { commitSha: commit.sha });
      await this.runs.insertAssistantMessage({ appId: run.appId, teamId: run.teamId, runId: run.id, content: finalText || 'Done.' });
    } catch (err) {
      if (err instanceof RunDeleted || !(await this.runs.findRun(runId).catch(() => run))) {
        this.logger.info({ runId }, 'the app was deleted mid-run; stopping');
        return;
      }
      if (err instanceof AppError && err.code === ErrorCode.RUN_CANCELLED) {
        const commit = await this.commit(run.appId, `${message.content}\n\n(cancelled)`, run.teamId).catch(() => undefined);
        await this.finish(run, 'cancelled', iterations, { commitSha: commit?.sha, errorCode: err.code, errorMessage: err.message });
        return;
      }
      const appError = err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL, 'The run failed unexpectedly; the error was logged');
      if (!(err instanceof AppError)) this.logger.error({ err, runId }, 'run failed unexpectedly');
      // Keep what was done: the turn's files are committed even when the run stops early.
      const commit = await this.commit(run.appId, message.content, run.teamId).catch(() => undefined);
      await this.finish(run, 'failed', iterations, { commitSha: commit?.sha, errorCode: appError.code, errorMessage: appError.message });
    }
  }

  // A step boundary: stop if the run was cancelled or its app deleted.
  private async checkpoint(runId: string): Promise<void> {
    const current = await this.runs.findRun(runId);
    if (!current) throw new RunDeleted();
    if (current.cancelRequestedAt) throw new AppError(ErrorCode.RUN_CANCELLED, cancelMessage(current.cancelReason ?? ''));
  }

  private commit(appId: string, request: string, teamId: string) {
    return this.rpc.send(Rpc.gitRepoCommit, { appId, message: commitMessageFor(request), authorName: 'overskill agent', authorEmail: 'agent@overskill.local' }, { tenantId: teamId });
  }

  private async step(runId: string, kind: string, summary: string, data: Record<string, unknown>, status: RunStatusName = 'running'): Promise<void> {
    const step = await this.runs.appendStep(runId, kind, summary, data, status);
    this.queue.publishProgress({ runId, seq: step.seq, kind, summary, status: RUN_STATUS[status], createdAt: step.createdAt.toISOString() });
  }

  private async finish(run: { id: string; appId: string; teamId: string }, status: RunStatusName, iterations: number, fields: { commitSha?: string; errorCode?: string; errorMessage?: string }): Promise<void> {
    // The final step first: whoever sees the final status also sees every step.
    await this.step(run.id, `run_${status}`, fields.errorMessage ?? `Run ${status}`, { errorCode: fields.errorCode ?? '' }, status);
    await this.runs.finish(run.id, status, { ...fields, iterations });
    this.finished.inc({ status });
    // Analytics is told, but a JetStream hiccup must not undo a finished run.
    await this.queue
      .publishFinished({ runId: run.id, appId: run.appId, teamId: run.teamId, status: RUN_STATUS[status], iterations, commitSha: fields.commitSha ?? '', errorCode: fields.errorCode ?? '' })
      .catch((err: unknown) => this.logger.warn({ err, runId: run.id }, 'could not publish run.finished'));
  }
}

// The first line of the request, shortened to a conventional subject line.
export function commitMessageFor(request: string): string {
  const firstLine = request.trim().split('\n')[0]?.trim() ?? '';
  const subject = firstLine.length > 72 ? `${firstLine.slice(0, 69)}...` : firstLine;
  return subject || 'Update app';
}


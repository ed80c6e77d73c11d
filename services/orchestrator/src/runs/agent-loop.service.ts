import { create, isMessage } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, aiV1 } from '@overskill/contracts';
import { encodedOnce, RedeliverLater } from '@overskill/messaging';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { AiRouterRepository } from '../delegation/ai-router.repository';
import { GitServiceRepository } from '../delegation/git-service.repository';
import { ToolRunnerRepository } from '../delegation/tool-runner.repository';
import type { AppEntity, MessageEntity, RunEntity, RunStatusName } from '../persistence/entities';
import { callCostUsd, checkBudgets, estimateFirstCallUsd } from './run-budget';
import { buildSystemPrompt } from './run-context';
import { RunContextLoader } from './run-context-loader';
import { withDependencyRetry, type Dependency } from './dependency-retry';
import { LoopDetector } from './loop-detector';
import { feedbackOf, isFeedbackStep, PreviewAutofix } from './preview-autofix';
import { LeaseLost, RunDeleted, RunJournal } from './run-journal';
import { RunQueueRepository } from './run-queue.repository';
import {
  RunState,
  changedWorkspace,
  outcomeFrom,
  pathsIn,
  roundMayHaveWritten,
  toContentBlock,
  toResultBlock,
  userText,
  type ChatMessageInit,
  type RunContext,
  type StoredBlock,
  type ToolOutcome,
  type ToolUse,
} from './run-state';
import { RUN_STATUS } from './run-status';
import { toRunEvent } from './run-event';
import { RunsRepository, type RunStart } from './runs.repository';
import { TeamSpendCache } from './team-spend-cache';

// Another replica holds the run right now: the message goes back to JetStream for later.
export class RunBusy extends RedeliverLater {}

const FINAL_KINDS = new Set(['run_completed', 'run_failed', 'run_cancelled']);
const AGENT = { authorName: 'overskill agent', authorEmail: 'agent@overskill.local' };
const IN_DOUBT_OUTPUT =
  'This tool call was interrupted (the orchestrator restarted or the call timed out) and its outcome is unknown. It was not repeated automatically. Check the workspace before repeating it.';

// One run: build the context, ask the model, execute the tools it asks for, feed the results
// back, until it ends its turn or a stop condition holds; then one commit. Every step is a
// checkpoint fenced by this replica's lease; a run taken over after a crash resumes from its
// last checkpoint and never executes a recorded tool call again.
@Injectable()
export class AgentLoopService {
  readonly replicaId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly active = new Set<string>();
  private readonly finished: Counter<'status' | 'code'>;
  private readonly resumes: Counter;
  private readonly inDoubt: Counter;
  private readonly stepOverhead: Histogram<'kind'>;

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly runs: RunsRepository,
    private readonly queue: RunQueueRepository,
    private readonly ai: AiRouterRepository,
    private readonly tools: ToolRunnerRepository,
    private readonly git: GitServiceRepository,
    private readonly contexts: RunContextLoader,
    private readonly previewAutofix: PreviewAutofix,
    private readonly teamSpend: TeamSpendCache,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    const registers = [metrics.registry];
    this.finished = new Counter({ name: 'runs_total', help: 'Finished runs by final status and error code', labelNames: ['status', 'code'], registers });
    this.resumes = new Counter({ name: 'run_resumes_total', help: 'Runs taken over from a checkpoint after a replica stopped', registers });
    this.inDoubt = new Counter({
      name: 'run_tool_calls_in_doubt_total',
      help: 'Tool calls whose outcome was unknown after a crash or timeout (not repeated)',
      registers,
    });
    this.stepOverhead = new Histogram({
      name: 'run_checkpoint_duration_seconds',
      help: 'Time to write and publish one checkpoint',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers,
    });
  }

  // deliveries: how often JetStream has handed this run out (1 = first time).
  async execute(runId: string, deliveries = 1): Promise<void> {
    // A redelivery while this process still works the run (a missed heartbeat): not twice.
    if (this.active.has(runId)) throw new RunBusy(`run ${runId} is already being worked on by this replica`);
    const claim = await this.runs.claim(runId, this.replicaId, this.env.RUN_LEASE_MS, {
      historyLimit: this.env.RUN_HISTORY_RECENT_MESSAGES + this.env.RUN_HISTORY_CONDENSED_MESSAGES,
      spendDay: this.env.TEAM_DAILY_COST_BUDGET_USD > 0 ? new Date() : undefined,
    });
    if ('gone' in claim) {
      if (!claim.gone) this.logger.info({ runId }, 'run requested but not found (its app was deleted); dropping');
      return; // finished already: a redelivery
    }
    if ('busyUntil' in claim) throw new RunBusy(`run ${runId} waits: another replica holds it, or an earlier run of its app goes first`);

    this.active.add(runId);
    const start = claim.claimed;
    const run = start.run;
    const journal = new RunJournal(run.id, this.replicaId, this.env.RUN_LEASE_MS, start.steps, this.runs, this.queue, (kind, seconds) =>
      this.stepOverhead.observe({ kind }, seconds),
    );
    const renew = setInterval(
      () => {
        this.runs.renewLease(run.id, this.replicaId, this.env.RUN_LEASE_MS).then(
          (state) => journal.noteLease(state),
          (err: unknown) => this.logger.warn({ err, runId }, 'lease renewal failed'),
        );
      },
      Math.max(100, Math.floor(this.env.RUN_LEASE_MS / 3)),
    );
    try {
      await this.drive(start, journal, deliveries);
    } finally {
      clearInterval(renew);
      this.active.delete(runId);
    }
  }

  private async drive(start: RunStart, journal: RunJournal, deliveries: number): Promise<void> {
    const { run, message, app } = start;
    const final = journal.steps.find((s) => FINAL_KINDS.has(s.kind));
    if (!message || !app) return; // deleted with its app
    if (final) {
      const event = toRunEvent(run.id, final);
      return this.writeFinal(run, final.status, final.data as unknown as FinalData, () => this.queue.publishProgress(event));
    }

    const state = new RunState(start);
    let last: string | undefined;
    try {
      if (journal.steps.length === 0) {
        await this.start(run, app, message, journal, state);
      } else {
        this.resumes.inc();
        state.baseSha = String(journal.steps.find((s) => s.kind === 'run_started')?.data['baseSha'] ?? '');
        await journal.repeatableStep('run_resumed', `Resumed from checkpoint ${journal.steps.length} on another replica`, {
          replica: this.replicaId,
          deliveries,
        });
        if (!state.baseSha) await this.start(run, app, message, journal, state); // crashed before its first checkpoint finished
      }
      last = await this.loop(run, app, message, journal, state);
    } catch (err) {
      return this.stop(run, message, journal, state, err, deliveries);
    }
    try {
      // Each round ends with a commit; the preview check of that version may start another.
      for (;;) {
        const existing = this.previewAutofix.roundCommit(journal.steps);
        const commit = existing
          ? { sha: String(existing.data['sha'] ?? ''), created: Boolean(existing.data['created']) }
          : await this.commitRound(run, message, journal);
        if (!existing)
          await journal.step('commit', commit.created ? `Committed ${commit.sha.slice(0, 12)}` : 'No file changes to commit', {
            sha: commit.sha,
            created: commit.created,
          });
        // A task's turn that changed nothing is answered in a comment: there is no new version to check.
        const unchangedTask = app.kind === 'task' && !commit.created;
        if (unchangedTask || !(await this.previewAutofix.afterCommit(run, journal, commit))) {
          await this.finish(run, journal, state, 'completed', { commitSha: commit.sha, reply: last || 'Done.' });
          return;
        }
        last = await this.loop(run, app, message, journal, state);
      }
    } catch (err) {
      return this.stop(run, message, journal, state, err, deliveries);
    }
  }

  // The version a round ends with. A round whose tools only read cannot have changed the
  // workspace: its version is HEAD, read from .git, without git's add and commit.
  private async commitRound(run: RunEntity, message: MessageEntity, journal: RunJournal): Promise<{ sha: string; created: boolean }> {
    if (!roundMayHaveWritten(journal.steps, this.env.RUN_READ_ONLY_TOOLS)) {
      return { sha: (await this.call('git', journal, () => this.git.head(run))).headSha, created: false };
    }
    return this.call('git', journal, () => this.git.commit(run, commitMessageFor(message.content), AGENT));
  }

  // The first checkpoint: the commit the run starts from (for rollbacks), and the budget check
  // before any money is spent.
  private async start(run: RunEntity, app: AppEntity, message: MessageEntity, journal: RunJournal, state: RunState): Promise<void> {
    // The starting commit and the context need nothing of each other: read at once, the start
    // waits for the slower of the two rather than for both in turn.
    const [head, context] = await Promise.all([this.call('git', journal, () => this.git.head(run)), this.context(run, app, journal, state)]);
    state.baseSha = head.headSha;
    const promptChars = context.system.length + JSON.stringify(context.history).length + message.content.length + context.tools.jsonChars;
    const estimateUsd = estimateFirstCallUsd(promptChars, 1000, this.env.MODEL_PRICES_JSON);
    // Lost only with the database, before the first model call's checkpoint flushed it: the run
    // then simply starts again (nothing was spent or changed yet).
    await journal.repeatableStep('run_started', 'Run started', { baseSha: state.baseSha, estimateUsd, promptChars, replica: this.replicaId });
    await this.checkBudgets(run, state, estimateUsd);
  }

  private async loop(run: RunEntity, app: AppEntity, message: MessageEntity, journal: RunJournal, state: RunState): Promise<string> {
    const maxIterations = app.maxIterations || this.env.RUN_MAX_ITERATIONS;
    const detector = new LoopDetector(this.env.RUN_LOOP_REPEAT_TURNS, this.env.RUN_LOOP_IDLE_TURNS);
    // Intents follow a model call's checkpoint: before the first there are none to read.
    const resumed = journal.steps.some((s) => s.kind === 'model_call');
    const intents = new Set(resumed ? (await this.runs.listToolIntents(run.id)).map((t) => t.toolUseId) : []);
    const context = state.context ?? (await this.context(run, app, journal, state));
    const conversation: ChatMessageInit[] = [...context.history, userText(message.content)];
    // Made and encoded once per catalog (KeptToolCatalogs): each model call copies their bytes into its request.
    const tools = context.tools.definitions;

    // Rebuild from the checkpoints: every recorded model turn and every recorded tool result.
    const results = new Map<string, ToolOutcome>();
    for (const s of journal.steps) if (s.kind === 'tool_call' && typeof s.data['toolUseId'] === 'string') results.set(s.data['toolUseId'], outcomeFrom(s));
    let pending: ToolUse[] = [];
    let lastText = '';
    let lastStop = '';
    for (const s of journal.steps.filter((x) => x.kind === 'model_call' || isFeedbackStep(x))) {
      if (pending.length > 0) this.replayTurn(conversation, detector, pending, results);
      if (isFeedbackStep(s)) {
        // What the preview check found, handed to the model as the user's next turn.
        conversation.push(userText(feedbackOf(s)));
        [pending, lastStop] = [[], 'preview_feedback'];
        continue;
      }
      const blocks = (s.data['content'] as StoredBlock[] | undefined) ?? [];
      conversation.push({ role: aiV1.Role.ASSISTANT, content: blocks.map(toContentBlock) });
      pending = blocks.flatMap((b) => (b.type === 'tool_use' ? [{ id: b.id, name: b.name, inputJson: b.inputJson }] : []));
      lastText = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n') || lastText;
      lastStop = String(s.data['stopReason'] ?? '');
    }
    if (pending.length > 0 && pending.every((p) => results.has(p.id))) {
      this.replayTurn(conversation, detector, pending, results);
      pending = [];
    }
    if (state.iterations > 0 && pending.length === 0 && lastStop !== 'tool_use' && lastStop !== 'preview_feedback') return lastText;

    let system = '';
    let touchedInSystem = -1;
    // The latest model reply's checkpoint (settled when replayed from the checkpoints).
    let replyDurable: Promise<void> = Promise.resolve();
    // The last turn's read-only results, still being written while the next model call runs.
    let readsWritten: Promise<void> = Promise.resolve();
    for (;;) {
      if (pending.length === 0) {
        journal.throwIfStopped();
        if (state.iterations >= maxIterations) {
          throw new AppError(
            ErrorCode.RUN_MAX_ITERATIONS,
            `Stopped after ${state.iterations} model turns (the limit for this app is ${maxIterations}); the work so far is committed`,
          );
        }
        await this.checkBudgets(run, state, 0);
        // The prompt changes only when the run touches another file.
        if (touchedInSystem !== state.touched.length)
          [system, touchedInSystem] = [buildSystemPrompt({ ...context.promptInput, touched: state.touched }), state.touched.length];
        const modelStarted = performance.now();
        // Each turn is encoded once, when it is first sent, and frozen: later requests copy its bytes
        // (the same bytes a fresh encode writes) instead of encoding the whole conversation again.
        conversation.forEach((turn, i) => {
          if (!isMessage(turn, aiV1.ChatMessageSchema)) conversation[i] = encodedOnce(aiV1.ChatMessageSchema, create(aiV1.ChatMessageSchema, turn));
        });
        const completion = await this.call('ai', journal, () =>
          this.ai.complete({
            teamId: run.teamId,
            appId: run.appId,
            runId: run.id,
            modelAlias: 'primary',
            system,
            messages: conversation,
            tools: [...tools],
            maxTokens: this.env.RUN_MAX_OUTPUT_TOKENS,
            // The run's whole budget: ai-router counts what the run already spent under its id.
            runBudgetUsd: this.env.RUN_COST_BUDGET_USD,
          }),
        );
        // A result that could not be written (the run is no longer ours) stops the run before this reply is.
        await readsWritten;
        const blocks: StoredBlock[] = completion.content.flatMap((b): StoredBlock[] => {
          if (b.block.case === 'text') return [{ type: 'text', text: b.block.value.text }];
          if (b.block.case === 'toolUse') return [{ type: 'tool_use', id: b.block.value.id, name: b.block.value.name, inputJson: b.block.value.inputJson }];
          return [];
        });
        const usage = {
          inputTokens: Number(completion.usage?.inputTokens ?? 0n),
          outputTokens: Number(completion.usage?.outputTokens ?? 0n),
          cacheReadTokens: Number(completion.usage?.cacheReadInputTokens ?? 0n),
          cacheWriteTokens: Number(completion.usage?.cacheCreationInputTokens ?? 0n),
        };
        const costUsd = callCostUsd(completion.model, usage, completion.costUsd, this.env.MODEL_PRICES_JSON);
        const toolUses = blocks.flatMap((b) => (b.type === 'tool_use' ? [b] : []));
        const text = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('\n');
        const tokens = usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
        // A read-only call may start while this checkpoint is written (it changes nothing: lost
        // with the reply, it is simply asked again); whatever writes, and every result, waits for it.
        replyDurable = journal.step(
          'model_call',
          text.slice(0, 500) || `${toolUses.length} tool call(s)`,
          {
            request: { messages: conversation.length, tools: tools.length, systemChars: system.length },
            // Time waiting for ai-router (retries included): what a step costs beyond the model is the rest.
            modelMs: Math.round((performance.now() - modelStarted) * 100) / 100,
            model: completion.model,
            stopReason: completion.stopReason,
            content: blocks,
            usage,
            costUsd,
            pricedBy: completion.costUsd > 0 ? 'ai-router' : 'orchestrator',
          },
          'running',
          { inputTokens: usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens, outputTokens: usage.outputTokens, costUsd, iterations: 1 },
        );
        // Awaited below; marked handled so a failure before then is not an unhandled rejection.
        replyDurable.catch(() => undefined);
        state.iterations += 1;
        state.tokens += tokens;
        state.costUsd += costUsd;
        if (text) lastText = text;
        conversation.push({ role: aiV1.Role.ASSISTANT, content: blocks.map(toContentBlock) });
        if (completion.stopReason !== 'tool_use' || toolUses.length === 0) {
          await replyDurable;
          return lastText;
        }
        pending = toolUses;
      }

      const writes: Array<Promise<void>> = [];
      const outcomes = await this.executeTools(run, journal, state, pending, results, intents, replyDurable, writes).catch(async (err: unknown) => {
        // The reply's checkpoint failing (the run is no longer ours) outranks a tool's failure.
        await replyDurable;
        throw err;
      });
      replyDurable = Promise.resolve();
      readsWritten = Promise.all(writes).then(() => undefined);
      // Awaited after the next model call; marked handled so a failure before then is not an unhandled rejection.
      readsWritten.catch(() => undefined);
      conversation.push({ role: aiV1.Role.USER, content: outcomes.map(toResultBlock) });
      const verdict = detector.record({
        calls: outcomes.map((o, i) => ({
          name: o.name,
          inputJson: pending[i]?.inputJson ?? '',
          changedWorkspace: changedWorkspace(o, this.env.RUN_READ_ONLY_TOOLS),
        })),
      });
      pending = [];
      if (verdict.looping) throw new AppError(ErrorCode.RUN_LOOP_DETECTED, `The agent was stuck in a loop: ${verdict.reason}`);
    }
  }

  private replayTurn(conversation: ChatMessageInit[], detector: LoopDetector, uses: ToolUse[], results: Map<string, ToolOutcome>): void {
    const outcomes = uses.map((u) => results.get(u.id)).filter((o): o is ToolOutcome => !!o);
    conversation.push({ role: aiV1.Role.USER, content: outcomes.map(toResultBlock) });
    detector.record({
      calls: uses.map((u) => {
        const o = results.get(u.id);
        return { name: u.name, inputJson: u.inputJson, changedWorkspace: !!o && changedWorkspace(o, this.env.RUN_READ_ONLY_TOOLS) };
      }),
    });
  }

  // Runs of consecutive read-only calls execute together; anything that writes runs alone, in order.
  private async executeTools(
    run: RunEntity,
    journal: RunJournal,
    state: RunState,
    uses: ToolUse[],
    results: Map<string, ToolOutcome>,
    intents: Set<string>,
    replyDurable: Promise<void>,
    writes: Array<Promise<void>>,
  ): Promise<ToolOutcome[]> {
    const outcomes: ToolOutcome[] = [];
    for (const group of concurrentGroups(uses, this.env.RUN_READ_ONLY_TOOLS)) {
      outcomes.push(...(await Promise.all(group.map((use) => this.executeTool(run, journal, state, use, results, intents, replyDurable, writes)))));
    }
    return outcomes;
  }

  private async executeTool(
    run: RunEntity,
    journal: RunJournal,
    state: RunState,
    use: ToolUse,
    results: Map<string, ToolOutcome>,
    intents: Set<string>,
    replyDurable: Promise<void>,
    // A read-only call's result checkpoint, left to finish while the loop goes on.
    writes: Array<Promise<void>>,
  ): Promise<ToolOutcome> {
    const recorded = results.get(use.id);
    if (recorded) return recorded;
    const readOnly = this.env.RUN_READ_ONLY_TOOLS.has(use.name);
    // Only a read leaves before the reply that asked for it is durable.
    if (!readOnly) await replyDurable;
    let outcome: ToolOutcome;
    if (intents.has(use.id)) {
      // Recorded as started, never as finished: it may have run. Not executed again.
      this.inDoubt.inc();
      outcome = { toolUseId: use.id, name: use.name, output: IN_DOUBT_OUTPUT, isError: true, errorCode: '', bytesWritten: 0, inDoubt: true };
    } else {
      journal.throwIfStopped();
      // The intent is durable before the call leaves: a crash after this point never repeats it.
      // A read-only call has nothing to repeat: after a crash it simply runs again, so it leaves
      // without an intent (one synchronous commit less per step; its result is still fenced).
      if (!readOnly) {
        if (!(await this.runs.recordToolIntent({ runId: run.id, owner: this.replicaId, toolUseId: use.id, name: use.name, inputJson: use.inputJson }))) {
          throw (await this.runs.findRun(run.id)) ? new LeaseLost() : new RunDeleted();
        }
        intents.add(use.id);
      }
      try {
        const reply = await this.call('tools', journal, () =>
          this.tools.execute({ teamId: run.teamId, appId: run.appId, runId: run.id, toolUseId: use.id, name: use.name, inputJson: use.inputJson }),
        );
        outcome = {
          toolUseId: use.id,
          name: use.name,
          output: reply.output,
          isError: reply.isError,
          errorCode: reply.errorCode,
          bytesWritten: Number(reply.bytesWritten),
        };
      } catch (err) {
        // No answer, or the bus went down while waiting for one: it may have run.
        if (!(err instanceof AppError && (err.code === ErrorCode.RPC_TIMEOUT || err.code === ErrorCode.DEPENDENCY_UNAVAILABLE))) throw err;
        this.inDoubt.inc();
        outcome = { toolUseId: use.id, name: use.name, output: IN_DOUBT_OUTPUT, isError: true, errorCode: '', bytesWritten: 0, inDoubt: true };
      }
    }
    // The reply that asked for the call (and what it spent) is durable before the next model call.
    await replyDurable;
    const summary = `${use.name}: ${outcome.output.slice(0, 200)}`;
    if (readOnly) {
      // A read's result only records it: lost (the database crashed, or this replica died before
      // it landed), the read is simply made again. So the next model call does not wait for it;
      // the journal writes it before that call's reply, and the loop awaits it there.
      const written = journal.repeatableStep('tool_call', summary, { ...outcome, inputJson: use.inputJson });
      written.catch(() => undefined);
      writes.push(written);
    } else {
      // A writing call's result must survive before anything else happens (else the call would be in doubt).
      await journal.step('tool_call', summary, { ...outcome, inputJson: use.inputJson });
    }
    results.set(use.id, outcome);
    if (!readOnly) state.touched.push(...pathsIn(use.inputJson));
    return outcome;
  }

  private async context(run: RunEntity, app: AppEntity, journal: RunJournal, state: RunState): Promise<RunContext> {
    state.context = await this.contexts.load(run, app, state.history, (dependency, fn) => this.call(dependency, journal, fn));
    return state.context;
  }

  private checkBudgets(run: RunEntity, state: RunState, estimateUsd: number): Promise<void> {
    return checkBudgets(this.env, state, estimateUsd, (fresh) => this.teamSpend.read(run.teamId, fresh));
  }

  private call<T>(dependency: Dependency, journal: RunJournal, fn: () => Promise<T>): Promise<T> {
    return withDependencyRetry(
      dependency,
      {
        attempts: this.env.RUN_RETRY_ATTEMPTS,
        baseMs: this.env.RUN_RETRY_BASE_MS,
        maxMs: this.env.RUN_RETRY_MAX_MS,
        rateLimitWaitMs: this.env.RUN_RATE_LIMIT_WAIT_MS,
        outageWaitMs: this.env.RUN_OUTAGE_WAIT_MS,
      },
      fn,
      () => journal.throwIfStopped(),
    ).catch((err: unknown) => {
      if (dependency === 'ai' && err instanceof AppError && err.code === ErrorCode.AI_BUDGET_EXCEEDED) {
        throw new AppError(ErrorCode.RUN_BUDGET_EXCEEDED, `ai-router refused the call: ${err.message}`);
      }
      throw err;
    });
  }

  // Every stop condition ends here with its own final status, message and workspace state.
  private async stop(run: RunEntity, message: MessageEntity, journal: RunJournal, state: RunState, err: unknown, deliveries: number): Promise<void> {
    if (err instanceof LeaseLost || err instanceof RunDeleted) {
      this.logger.info({ runId: run.id, reason: err.constructor.name }, 'stopping: the run is no longer this replica’s');
      return;
    }
    if (!(err instanceof AppError)) {
      // Our own trouble (the database, say): let JetStream hand the run out again, a few times.
      if (deliveries < 5) throw err;
      this.logger.error({ err, runId: run.id }, 'run failed unexpectedly');
    }
    const appError = err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL, 'The run failed unexpectedly; the error was logged');
    const code = appError.code;
    try {
      if (code === ErrorCode.RUN_LOOP_DETECTED || code === ErrorCode.RUN_AI_UNAVAILABLE || code === ErrorCode.RUN_TOOLS_UNAVAILABLE) {
        // Back to the commit the run started from; what it wrote is saved as a commit first, so
        // nothing is half-written and nothing is lost.
        const restored = await this.rollBack(run, journal, state, code === ErrorCode.RUN_LOOP_DETECTED ? 'loop detected' : 'a dependency was unavailable');
        const reply =
          code === ErrorCode.RUN_LOOP_DETECTED
            ? `I stopped because I was going in circles (${appError.message.replace('The agent was stuck in a loop: ', '')}). I rolled the app back to how it was before this request (commit ${restored.slice(0, 12)}); the attempt is kept in the history. Try rephrasing the request or splitting it into smaller steps.`
            : `${appError.message}`;
        return await this.finish(run, journal, state, 'failed', { commitSha: restored, errorCode: code, errorMessage: appError.message, reply });
      }
      if (code === ErrorCode.RUN_GIT_UNAVAILABLE) {
        return await this.finish(run, journal, state, 'failed', {
          errorCode: code,
          errorMessage: `${appError.message} Changes made by this run are not committed yet.`,
          reply: appError.message,
        });
      }
      // Cancel, max iterations, budget, anything else: keep what was done as a version.
      const commit = await this.call('git', journal, () => this.git.commit(run, commitMessageFor(message.content), AGENT)).catch(() => undefined);
      const status: RunStatusName = code === ErrorCode.RUN_CANCELLED ? 'cancelled' : 'failed';
      await this.finish(run, journal, state, status, { commitSha: commit?.sha, errorCode: code, errorMessage: appError.message, reply: appError.message });
    } catch (inner) {
      if (inner instanceof LeaseLost || inner instanceof RunDeleted) return;
      throw inner;
    }
  }

  private async rollBack(run: RunEntity, journal: RunJournal, state: RunState, why: string): Promise<string> {
    if (!state.baseSha) return '';
    try {
      const restored = await this.call('git', journal, () => this.git.restore(run, state.baseSha, `Roll back to ${state.baseSha.slice(0, 12)}: ${why}`, AGENT));
      await journal.step('rollback', `Rolled back to ${state.baseSha.slice(0, 12)} (${why})`, {
        sha: restored.sha,
        restoredFrom: state.baseSha,
        savedPendingSha: restored.savedPendingSha,
      });
      return restored.sha;
    } catch (err) {
      if (err instanceof LeaseLost || err instanceof RunDeleted) throw err;
      this.logger.warn({ err, runId: run.id }, 'rollback failed; the workspace keeps the run’s changes uncommitted');
      return '';
    }
  }

  private async finish(
    run: RunEntity,
    journal: RunJournal,
    state: RunState,
    status: RunStatusName,
    fields: { commitSha?: string; errorCode?: string; errorMessage?: string; reply: string },
  ): Promise<void> {
    // The final step first: whoever sees the final status also sees every step.
    const summary = fields.errorMessage ?? `Run ${status}`;
    const data = {
      errorCode: fields.errorCode ?? '',
      errorMessage: fields.errorMessage ?? '',
      commitSha: fields.commitSha ?? '',
      reply: fields.reply,
      tokens: state.tokens,
      costUsd: state.costUsd,
    };
    const publish = await journal.final(`run_${status}`, summary, data, status);
    await this.writeFinal(run, status, data, publish);
  }

  // After the final step (also when a crash came between the two: then from that step).
  private async writeFinal(run: RunEntity, status: RunStatusName, data: FinalData, publishFinalEvent: () => void): Promise<void> {
    const finished = await this.runs.finishOwned(run.id, this.replicaId, status, { ...data, reply: data.reply || 'Done.' });
    if (!finished) return;
    publishFinalEvent();
    this.finished.inc({ status, code: data.errorCode || 'none' });
    const duration = Date.now() - (run.startedAt ?? run.createdAt).getTime();
    this.logger.info({ runId: run.id, appId: run.appId, status, errorCode: data.errorCode || undefined, duration }, 'run finished');
    // Analytics is told, but a JetStream hiccup must not undo a finished run.
    await this.queue
      .publishFinished({
        runId: run.id,
        appId: run.appId,
        teamId: run.teamId,
        status: RUN_STATUS[status],
        iterations: finished.iterations,
        commitSha: data.commitSha,
        errorCode: data.errorCode,
      })
      .catch((err: unknown) => this.logger.warn({ err, runId: run.id }, 'could not publish run.finished'));
  }
}

interface FinalData {
  errorCode: string;
  errorMessage: string;
  commitSha: string;
  reply: string;
}

// Consecutive read-only calls form one group (run together); every other call is its own.
export function concurrentGroups<T extends { name: string }>(uses: T[], readOnly: ReadonlySet<string>): T[][] {
  const groups: T[][] = [];
  for (const use of uses) {
    const last = groups.at(-1);
    if (last && readOnly.has(use.name) && last.every((u) => readOnly.has(u.name))) last.push(use);
    else groups.push([use]);
  }
  return groups;
}

// The first line of the request, shortened to a conventional subject line.
export function commitMessageFor(request: string): string {
  const firstLine = request.trim().split('\n')[0]?.trim() ?? '';
  const subject = firstLine.length > 72 ? `${firstLine.slice(0, 69)}...` : firstLine;
  return subject || 'Update app';
}

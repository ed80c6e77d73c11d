import { AppError, ErrorCode } from '@overskill/contracts';
import { RunStepEntity, type RunStatusName } from '../persistence/entities';
import type { RunQueueRepository } from './run-queue.repository';
import type { RunsRepository } from './runs.repository';
import { RUN_STATUS } from './run-status';
import { cancelMessage } from './runs.repository';

// This replica no longer holds the run (its lease lapsed and another took over, or the run
// was finished elsewhere): stop without writing anything more.
export class LeaseLost extends Error {}
// The run's row is gone: its app was deleted mid-run.
export class RunDeleted extends Error {}

export interface StepUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  iterations: number;
}

// The run's checkpoints, written in order through one chain (concurrent tool calls finish in
// any order, but events must go out in seq order), each fenced by the lease and published on
// run.events.<runId> only once durable.
export class RunJournal {
  private nextSeq: number;
  private chain: Promise<unknown> = Promise.resolve();
  private cancelReason: string | undefined;
  private lost = false;

  constructor(
    private readonly runId: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    readonly steps: RunStepEntity[],
    private readonly runs: RunsRepository,
    private readonly queue: RunQueueRepository,
    private readonly observe: (kind: string, seconds: number) => void = () => undefined,
  ) {
    this.nextSeq = steps.reduce((max, s) => Math.max(max, s.seq), 0) + 1;
  }

  async step(kind: string, summary: string, data: Record<string, unknown>, status: RunStatusName = 'running', usage?: StepUsage): Promise<void> {
    (await this.write(kind, summary, data, status, usage, true))();
  }

  // A step whose loss is harmless: what it records is simply done again after a database crash
  // (a read), so its commit does not wait for the WAL flush. The next durable step flushes it.
  async repeatableStep(kind: string, summary: string, data: Record<string, unknown>): Promise<void> {
    (await this.write(kind, summary, data, 'running', undefined, false))();
  }

  // The final step: durable now, published by the caller once the run row says it is
  // finished, so a client reacting to the event reads the final status.
  final(kind: string, summary: string, data: Record<string, unknown>, status: RunStatusName): Promise<() => void> {
    return this.write(kind, summary, data, status, undefined, true);
  }

  private write(
    kind: string,
    summary: string,
    data: Record<string, unknown>,
    status: RunStatusName,
    usage: StepUsage | undefined,
    durable: boolean,
  ): Promise<() => void> {
    const run = async () => {
      const seq = this.nextSeq;
      const started = performance.now();
      const written = await this.runs.appendFencedStep({
        runId: this.runId,
        owner: this.owner,
        leaseMs: this.leaseMs,
        seq,
        kind,
        summary,
        data,
        status,
        usage,
        durable,
      });
      if (!written) {
        this.lost = true;
        throw (await this.runs.findRun(this.runId)) ? new LeaseLost() : new RunDeleted();
      }
      this.nextSeq = seq + 1;
      // What the run has recorded so far, also in memory: a later round replays it.
      this.steps.push(Object.assign(new RunStepEntity(), { id: '', runId: this.runId, seq, kind, summary, data, status, createdAt: written.createdAt }));
      if (written.cancelRequested) this.cancelReason = written.cancelReason;
      const publish = () =>
        this.queue.publishProgress({ runId: this.runId, seq, kind, summary, status: RUN_STATUS[status], createdAt: written.createdAt.toISOString() });
      this.observe(kind, (performance.now() - started) / 1000);
      return publish;
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  // From the lease renewal, between checkpoints.
  noteLease(state: { held: boolean; cancelRequested: boolean; cancelReason: string }): void {
    if (!state.held) this.lost = true;
    if (state.cancelRequested && this.cancelReason === undefined) this.cancelReason = state.cancelReason;
  }

  // A step boundary: stop here when the run was cancelled or is no longer ours.
  throwIfStopped(): void {
    if (this.lost) throw new LeaseLost();
    if (this.cancelReason !== undefined) throw new AppError(ErrorCode.RUN_CANCELLED, cancelMessage(this.cancelReason));
  }

  get isLost(): boolean {
    return this.lost;
  }
}

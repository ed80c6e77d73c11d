import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { TaskRetentionRepository } from './task-retention.repository';

const DAY_MS = 86_400_000;
const BATCH = 500;
// Batches per kind and tick: a large backlog is worked off over a few ticks, never in one long run.
const MAX_BATCHES = 20;

// Every TASK_RETENTION_INTERVAL_MS, on every replica (removing twice is harmless, and the
// batches skip rows another replica holds): deliveries past TASK_DELIVERY_RETENTION_DAYS, and
// the workspaces of tasks that ended TASK_WORKSPACE_GRACE_DAYS ago or whose project is gone.
@Injectable()
export class TaskRetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly retention: TaskRetentionRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.TASK_RETENTION_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((err: unknown) => this.logger.warn({ err }, 'task retention failed'))
        .finally(() => (this.running = undefined));
    }, this.env.TASK_RETENTION_INTERVAL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sweep(now = Date.now()): Promise<{ deliveries: number; workspaces: number }> {
    let deliveries = 0;
    const cutoff = new Date(now - this.env.TASK_DELIVERY_RETENTION_DAYS * DAY_MS);
    for (let i = 0; i < MAX_BATCHES; i++) {
      const n = await this.retention.removeDeliveriesBefore(cutoff, BATCH);
      deliveries += n;
      if (n < BATCH) break;
    }
    let workspaces = 0;
    const ended = new Date(now - this.env.TASK_WORKSPACE_GRACE_DAYS * DAY_MS);
    for (let i = 0; i < MAX_BATCHES; i++) {
      const removed = await this.retention.releaseWorkspaces(ended, BATCH);
      workspaces += removed.length;
      if (removed.length < BATCH) break;
    }
    if (deliveries + workspaces > 0) this.logger.info({ deliveries, workspaces }, "task retention: old deliveries and ended tasks' workspaces removed");
    return { deliveries, workspaces };
  }
}

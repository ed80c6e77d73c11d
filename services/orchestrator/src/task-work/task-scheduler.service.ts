import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { TaskLeasesRepository } from './task-leases.repository';
import { TaskRunnerService } from './task-runner.service';

// Every replica claims queued tasks from Postgres (priority order across projects, each
// project's concurrency and the global cap are the claim's own conditions), up to
// TASK_WORKER_CONCURRENCY at a time, and renews the lease of each while it works it.
@Injectable()
export class TaskSchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly owner = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly leases: TaskLeasesRepository,
    private readonly runner: TaskRunnerService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.TASK_WORKER_CONCURRENCY === 0) return;
    this.timer = setInterval(() => {
      this.ticking ??= this.tick()
        .catch((err: unknown) => this.logger.warn({ err }, 'task scheduling failed'))
        .finally(() => (this.ticking = undefined));
    }, this.env.TASK_SCHEDULE_INTERVAL_MS);
  }

  // Work in progress is given back (its lease released) so another replica resumes it at once.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.active.values()]);
  }

  async tick(): Promise<void> {
    while (!this.stopping && this.active.size < this.env.TASK_WORKER_CONCURRENCY) {
      const task = await this.leases.claimNext(this.owner, this.env.TASK_LEASE_MS, this.env.TASK_MAX_RUNNING);
      if (!task) return;
      this.logger.info({ taskId: task.id, issue: task.issueNumber, repository: task.repository, attempt: task.attempts }, 'task claimed');
      let lost = false;
      let cancelRequested = !!task.cancelRequestedAt;
      const renew = setInterval(
        () => {
          this.leases.renew(task.id, this.owner, this.env.TASK_LEASE_MS).then(
            (state) => {
              lost ||= !state.held;
              cancelRequested ||= state.cancelRequested;
            },
            (err: unknown) => this.logger.warn({ err, taskId: task.id }, 'task lease renewal failed'),
          );
        },
        Math.max(100, Math.floor(this.env.TASK_LEASE_MS / 3)),
      );
      const ctl = { owner: this.owner, lost: () => lost || this.stopping, cancelRequested: () => cancelRequested };
      const work = this.runner
        .work(task, ctl)
        .catch((err: unknown) => this.logger.error({ err, taskId: task.id }, 'task work failed'))
        .finally(async () => {
          clearInterval(renew);
          if (this.stopping) await this.leases.release(task.id, this.owner).catch(() => undefined);
          this.active.delete(task.id);
        });
      this.active.set(task.id, work);
    }
  }
}

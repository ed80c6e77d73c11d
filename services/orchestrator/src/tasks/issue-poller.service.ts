import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitHubRepository } from '../github/github.repository';
import type { ProjectEntity } from '../persistence/entities';
import { ProjectsService } from '../projects/projects.service';
import { priorityOf } from './github-deliveries.service';
import { TaskMetrics } from './task-metrics';
import { TasksRepository } from './tasks.repository';

// Projects polled per tick and replica; the rest wait for the next tick.
const POLL_PRIORITY = 0;
const POLLS_PER_TICK = 20;

// The reconciler: every project's open issues with the trigger label are listed every
// TASK_POLL_INTERVAL_MS (conditional requests), and one that has no task and no state label yet
// — a webhook that never came — becomes a task. Each project is polled by one replica per interval.
@Injectable()
export class IssuePollerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly tasks: TasksRepository,
    private readonly projects: ProjectsService,
    private readonly github: GitHubRepository,
    private readonly metrics: TaskMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.TASK_POLL_INTERVAL_MS === 0) return;
    // Ticks a few times per interval, so a replica that stops leaves its projects for little longer than one interval.
    const every = Math.max(200, Math.floor(this.env.TASK_POLL_INTERVAL_MS / 4));
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((err: unknown) => this.logger.warn({ err }, 'issue poll failed'))
        .finally(() => (this.running = undefined));
    }, every);
  }

  // Before connections close: work in progress still reaches NATS and Postgres while it ends.
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    const due = await this.tasks.claimDuePolls(this.env.TASK_POLL_INTERVAL_MS, POLLS_PER_TICK);
    for (const project of due) {
      await this.poll(project).catch((err: unknown) =>
        this.logger.warn({ err, projectId: project.id, repository: project.repository }, 'could not poll the repository'),
      );
    }
  }

  private async poll(project: ProjectEntity): Promise<void> {
    const auth = this.projects.authOf(project);
    // The lowest priority: low on quota, the reconciler is the first to wait for the reset (nothing is sent).
    const list = () => this.github.openIssuesLabelled(auth, project.repository, project.labels.trigger, project.pollEtag);
    const listed = await this.github.withPriority(POLL_PRIORITY, list).catch((err: unknown) => {
      if (err instanceof AppError && err.code === ErrorCode.GITHUB_RATE_LIMITED) {
        this.logger.debug({ projectId: project.id, reason: err.message }, 'poll skipped: GitHub quota');
        return undefined;
      }
      throw err;
    });
    if (!listed) return;
    if (!listed.changed) return;
    const states = new Set([project.labels.processing, project.labels.awaitingResponse, project.labels.completed, project.labels.failed]);
    for (const issue of listed.issues) {
      // A state label means a task has had the issue already.
      if (issue.labels.some((l) => states.has(l))) continue;
      const priority = priorityOf(issue.labels, project.priorityLabels);
      const result = await this.tasks.createIfAbsent({
        teamId: project.teamId,
        projectId: project.id,
        repository: project.repository,
        issueNumber: issue.number,
        title: issue.title,
        priority,
        deliveryId: 'poll',
      });
      if (result !== 'created') continue;
      this.metrics.taskCreated(project.id, priority, 'poll');
      this.logger.info({ projectId: project.id, issue: issue.number }, 'task created by the poller (no webhook delivered it)');
    }
    await this.tasks.savePollEtag(project.id, listed.etag);
  }
}

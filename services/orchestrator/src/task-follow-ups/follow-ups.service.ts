import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitHubRepository } from '../github/github.repository';
import type { ProjectEntity } from '../persistence/entities';
import { ProjectsService } from '../projects/projects.service';
import type { FollowUpEvent } from './follow-up-events';
import { FollowUpsRepository, type FollowUpWriter } from './follow-ups.repository';

const WRITERS = new Set(['admin', 'maintain', 'write']);
const CACHE_MAX = 10_000;
// What asking again will not change: the project's credentials do not open here, or GitHub refuses them.
const CREDENTIAL_PROBLEMS = new Set<string>([
  ErrorCode.PROJECT_SECRETS_NOT_CONFIGURED,
  ErrorCode.GITHUB_AUTH_FAILED,
  ErrorCode.GITHUB_PERMISSION_MISSING,
  ErrorCode.GITHUB_REPO_NOT_FOUND,
]);

// Whether a follow-up may continue a project's task: undefined when there is no task to continue
// (nothing was asked), or why its author's permission could not be checked.
export type FollowUpPermission = boolean | { unchecked: string } | undefined;

// Who may continue a task: people with write permission on the repository, asked of GitHub (the
// collaborator-permission API) and remembered briefly so a burst of review comments costs one
// request. Others' comments are recorded with the delivery and otherwise ignored.
@Injectable()
export class FollowUpsService {
  private readonly access = new Map<string, { allowed: boolean; until: number }>();

  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'TASK_PERMISSION_CACHE_MS' | 'TASK_REVIEW_DEBOUNCE_MS'>,
    private readonly github: GitHubRepository,
    private readonly projects: ProjectsService,
    private readonly followUps: FollowUpsRepository,
  ) {}

  // Outside the delivery's transaction (it asks GitHub): whether the event may continue a task of
  // the project. A project whose credentials GitHub refuses gets an answer too, so that it cannot
  // hold up the delivery for the other projects (of any team) that track the same repository;
  // an outage or a rate limit is thrown, and the delivery is tried again.
  async mayContinue(project: ProjectEntity, event: FollowUpEvent): Promise<FollowUpPermission> {
    if (event.own || !event.author) return undefined;
    const task = await this.followUps.target(project.id, event);
    if (!task || task.status === 'cancelled') return undefined;
    try {
      return await this.canWrite(project, event.author);
    } catch (err) {
      if (err instanceof AppError && CREDENTIAL_PROBLEMS.has(err.code)) return { unchecked: err.message };
      throw err;
    }
  }

  async canWrite(project: ProjectEntity, login: string): Promise<boolean> {
    const key = `${project.id}:${login.toLowerCase()}`;
    const cached = this.access.get(key);
    if (cached && cached.until > Date.now()) return cached.allowed;
    const permission = await this.github.collaboratorPermission(this.projects.authOf(project), project.repository, login);
    const allowed = WRITERS.has(permission);
    if (this.access.size >= CACHE_MAX) this.access.clear();
    this.access.set(key, { allowed, until: Date.now() + this.env.TASK_PERMISSION_CACHE_MS });
    return allowed;
  }

  // In the delivery's transaction: the follow-up recorded on its task, which continues.
  async apply(project: ProjectEntity, event: FollowUpEvent, allowed: FollowUpPermission, tx: FollowUpWriter): Promise<string> {
    const what = `${event.source} ${event.sourceId}`;
    if (event.own) return `${what}: our own, ignored`;
    const task = await tx.target(project.id, event);
    if (!task) return `${what}: no task`;
    if (task.status === 'cancelled') return `${what}: the task was cancelled, ignored`;
    if (allowed === undefined) return `${what}: not checked, ignored`;
    // Why is logged with the delivery: the outcome column is short and shared by every project.
    if (typeof allowed === 'object') return `${what}: @${event.author}'s permission could not be checked with this project's credentials, ignored`;
    if (!allowed) return `${what}: @${event.author} has no write permission, ignored`;
    // Review comments come in bursts (one per line of a review): one run answers them together.
    const delay = event.source === 'review_comment' ? this.env.TASK_REVIEW_DEBOUNCE_MS : 0;
    const added = await tx.add(task, event, new Date(Date.now() + delay));
    return `${what}: follow-up of task ${task.id} ${added}`;
  }
}

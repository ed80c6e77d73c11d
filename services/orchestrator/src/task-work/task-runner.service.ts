import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AppsRepository } from '../apps/apps.repository';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitServiceRepository, type GitCaller } from '../delegation/git-service.repository';
import { PreviewCheckRepository } from '../delegation/preview-check.repository';
import { GitHubRepository, URGENT_PRIORITY, type GitHubAuth } from '../github/github.repository';
import type { ProjectEntity, RunEntity, TaskEntity, TaskStatusName } from '../persistence/entities';
import { ProjectsRepository } from '../projects/projects.repository';
import { ProjectsService } from '../projects/projects.service';
import { RunQueueRepository } from '../runs/run-queue.repository';
import { RunsRepository } from '../runs/runs.repository';
import { asksQuestion } from '../task-follow-ups/follow-up-events';
import { followUpPrompt, followUpsBlock, replyMarker, threadReply } from '../task-follow-ups/follow-up-text';
import { FollowUpsRepository } from '../task-follow-ups/follow-ups.repository';
import { TaskMetrics } from '../tasks/task-metrics';
import { TaskLeasesRepository, type TaskFields } from './task-leases.repository';
import { previewReportOf, previewSection, SCREENSHOT_PATH, screenshotUrl, withPreviewSection, type PreviewReport } from './preview-report';
import { answerBody, answerMarker, pullBody, pullTitle, statusBody, statusMarker, taskPrompt, type RunFigures, type StatusState } from './task-text';

// This replica no longer holds the task: stop without writing anything more.
export class TaskLost extends Error {}

export interface TaskControl {
  owner: string;
  lost(): boolean;
  cancelRequested(): boolean;
}

// Unexpected trouble (the database, NATS) is retried by giving the lease back this many times.
const MAX_ATTEMPTS = 5;
const RUN_POLL_MS = 250;
const FINAL_RUN = new Set(['completed', 'failed', 'cancelled']);
const AGENT = { authorName: 'overskill agent', authorEmail: 'agent@overskill.local' };

interface Work {
  task: TaskEntity;
  project: ProjectEntity;
  auth: GitHubAuth;
  ctl: TaskControl;
  started: number;
}

// One task, from its claim to its answer: labels and the status comment, a clone on the task's
// branch, an agent run of the app builder's loop on it, then a draft pull request or a comment.
// Every step is idempotent and recorded on the task row under the lease, so a task resumed by
// another replica finds what was done (the PR by its branch, comments by their hidden marker)
// instead of doing it again.
@Injectable()
export class TaskRunnerService {
  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly leases: TaskLeasesRepository,
    private readonly projectRows: ProjectsRepository,
    private readonly projects: ProjectsService,
    private readonly github: GitHubRepository,
    private readonly git: GitServiceRepository,
    private readonly apps: AppsRepository,
    private readonly runs: RunsRepository,
    private readonly runQueue: RunQueueRepository,
    private readonly metrics: TaskMetrics,
    private readonly followUps: FollowUpsRepository,
    private readonly previews: PreviewCheckRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // A task's GitHub requests carry its priority: under a low quota, work below urgent waits.
  work(task: TaskEntity, ctl: TaskControl): Promise<void> {
    return this.github.withPriority(task.priority, () => this.workTask(task, ctl));
  }

  private async workTask(task: TaskEntity, ctl: TaskControl): Promise<void> {
    const project = await this.projectRows.findForTeam(task.teamId, task.projectId);
    if (!project) return; // deleted: its tasks go with it
    let auth: GitHubAuth;
    try {
      auth = this.projects.authOf(project);
    } catch (err) {
      // Without its credentials the task cannot even say so on GitHub: it ends here, with the reason.
      const reason = err instanceof AppError ? err.message : 'the project credentials could not be opened';
      if (
        await this.leases.finish(task.id, ctl.owner, 'failed', { errorCode: err instanceof AppError ? err.code : ErrorCode.INTERNAL, errorMessage: reason })
      ) {
        this.metrics.taskFinished(project.id, task.priority, 'failed', 0);
      }
      return;
    }
    const w: Work = { task, project, auth, ctl, started: task.startedAt?.getTime() ?? Date.now() };
    try {
      await this.begin(w);
      const caller = await this.workspace(w);
      // One turn per run: the issue first, then the follow-ups that came meanwhile, each answered
      // on the same branch and pull request before the next is started.
      let outcome = outcomeOf(w.task);
      for (;;) {
        if (ctl.cancelRequested()) return await this.end(w, 'cancelled', { state: 'cancelled' });
        if (w.task.runId && w.task.runId === w.task.answeredRunId && !(await this.followUpsReady(w))) break;
        const run = await this.runToEnd(w, caller);
        if (run.status === 'cancelled' || ctl.cancelRequested()) return await this.end(w, 'cancelled', { state: 'cancelled' });
        if (run.status === 'failed') throw new AppError(ErrorCode.TASK_FAILED, run.errorMessage || `The agent run failed (${run.errorCode ?? 'no code'})`);
        outcome = await this.answer(w, caller, run);
        if (outcome.status === 'awaiting_response') break;
      }
      await this.end(w, outcome.status, outcome.state);
    } catch (err) {
      if (err instanceof TaskLost) return;
      // GitHub's quota: not a failure. The task is given back until GitHub takes requests again.
      if (err instanceof AppError && err.code === ErrorCode.GITHUB_RATE_LIMITED) {
        const retryAt = new Date(Number(err.details['retryAt']) || Date.now() + 60_000);
        this.logger.info({ taskId: task.id, priority: task.priority, retryAt: retryAt.toISOString(), reason: err.message }, 'task waits for the GitHub quota');
        await this.showWaiting(w, retryAt);
        await this.leases.defer(task.id, ctl.owner, retryAt);
        return;
      }
      if (!(err instanceof AppError) && task.attempts < MAX_ATTEMPTS) {
        this.logger.warn({ err, taskId: task.id, attempt: task.attempts }, 'task interrupted; it will be resumed');
        await this.leases.release(task.id, ctl.owner);
        return;
      }
      const reason = err instanceof AppError ? err.message : 'it failed unexpectedly (the error was logged)';
      if (!(err instanceof AppError)) this.logger.error({ err, taskId: task.id }, 'task failed unexpectedly');
      await this.fail(w, err instanceof AppError ? err.code : ErrorCode.INTERNAL, reason);
    }
  }

  // The issue shows it is being worked on: the processing label (an earlier outcome's label
  // goes) and the status comment.
  // Writes are what GitHub paces (one a second per account), so only labels that change are sent.
  private async begin(w: Work): Promise<void> {
    const { labels } = w.project;
    const current = new Set((await this.github.issue(w.auth, w.project.repository, w.task.issueNumber)).labels);
    if (!current.has(labels.processing)) await this.github.addLabels(w.auth, w.project.repository, w.task.issueNumber, [labels.processing]);
    for (const old of [labels.failed, labels.completed, labels.awaitingResponse])
      if (current.has(old)) await this.github.removeLabel(w.auth, w.project.repository, w.task.issueNumber, old);
    await this.status(w, { state: 'working' });
  }

  // A task the issue shows as being worked on says that it waits, and until when: the processing
  // label goes (begin puts it back) and the status comment is edited. Two requests from the reserve
  // kept for urgent work, once per started task and window; none when GitHub takes no request at
  // all (spent, or a secondary limit), and the task waits all the same.
  private async showWaiting(w: Work, until: Date): Promise<void> {
    if (!w.task.statusCommentId || w.ctl.lost()) return;
    try {
      await this.github.withPriority(URGENT_PRIORITY, async () => {
        await this.github.removeLabel(w.auth, w.project.repository, w.task.issueNumber, w.project.labels.processing);
        await this.status(w, { state: 'waiting', until });
      });
    } catch (err) {
      if (err instanceof TaskLost) return;
      this.logger.info({ err, taskId: w.task.id }, 'could not say on GitHub that the task waits for the quota');
    }
  }

  // The task's clone, on its branch from the project's base branch: made once, kept for retries.
  private async workspace(w: Work): Promise<GitCaller> {
    let appId = w.task.appId;
    if (!appId) {
      appId = randomUUID();
      await this.record(w, { appId });
    }
    const caller = { teamId: w.task.teamId, appId };
    await this.apps.insertTaskWorkspace({
      id: appId,
      teamId: w.task.teamId,
      name: w.project.repository,
      description: `GitHub issue #${w.task.issueNumber}: ${w.task.title}`.slice(0, 2000),
    });
    if (!w.task.baseSha) {
      // A task followed up after its workspace was removed starts again from its pushed branch.
      const pushedFrom = w.task.pullNumber ? w.task.branch : w.project.baseBranch;
      const token = await this.github.gitToken(w.auth, w.project.repository);
      const cloned = await this.git
        .clone(caller, { url: `${this.env.GITHUB_GIT_URL.replace(/\/+$/, '')}/${w.project.repository}.git`, token, branch: pushedFrom })
        .catch((err: unknown) => (err instanceof AppError && err.code === ErrorCode.GIT_REPO_EXISTS ? this.git.head(caller) : Promise.reject(err)));
      const head = cloned.headSha;
      await this.git.createBranch(caller, w.task.branch, head).catch((err: unknown) => {
        if (err instanceof AppError && err.code === ErrorCode.GIT_BRANCH_EXISTS) return this.git.switchBranch(caller, w.task.branch);
        throw err;
      });
      await this.apps.setInitSha(appId, head);
      await this.record(w, { baseSha: head });
    }
    return caller;
  }

  // The agent run: the app builder's loop through the RUNS stream (its own leases, checkpoints
  // and resume), started once per attempt and waited for here.
  private async runToEnd(w: Work, caller: GitCaller): Promise<RunEntity> {
    let runId = w.task.runId;
    if (!runId || runId === w.task.answeredRunId) {
      const mode = answerModeOf(w.project);
      const repository = w.project.repository;
      let request: (followUps: Array<Parameters<typeof followUpsBlock>[0][number]>) => string;
      if (w.task.answeredRunId) {
        request = (followUps) => followUpPrompt({ repository, number: w.task.issueNumber, title: w.task.title }, mode, followUps);
      } else {
        const issue = await this.github.issue(w.auth, repository, w.task.issueNumber);
        // Comments that came while the task was queued go with the issue.
        const text = { repository, number: w.task.issueNumber, title: issue.title, body: issue.body };
        request = (followUps) => taskPrompt(text, mode, followUps.length > 0 ? followUpsBlock(followUps) : '');
      }
      const attached = await this.leases.attachRun(w.task, w.ctl.owner, caller.appId, w.task.runId, request);
      if (!attached) throw new TaskLost();
      w.task.runId = runId = attached;
    }
    let cancelSent = false;
    for (;;) {
      if (w.ctl.lost()) throw new TaskLost();
      const run = await this.runs.findRun(runId);
      if (!run) throw new AppError(ErrorCode.TASK_FAILED, 'The agent run is gone');
      if (FINAL_RUN.has(run.status)) return run;
      // msg-id = run id: a resumed task enqueues again without a second run.
      if (run.status === 'queued') await this.runQueue.enqueue({ runId, appId: caller.appId, teamId: w.task.teamId });
      if (w.ctl.cancelRequested() && !cancelSent) {
        cancelSent = true;
        if (!(await this.runs.cancelQueued(runId, 'the task was cancelled'))) await this.runs.requestCancel(runId, 'the task was cancelled');
      }
      await new Promise((r) => setTimeout(r, RUN_POLL_MS));
    }
  }

  // Follow-ups waiting for a run: true once the earliest is ready (review comments wait out
  // their debounce here), false when none waits.
  private async followUpsReady(w: Work): Promise<boolean> {
    for (;;) {
      if (w.ctl.lost()) throw new TaskLost();
      const at = await this.followUps.nextReadyAt(w.task.id);
      if (!at) return false;
      const wait = at.getTime() - Date.now();
      if (wait <= 0) return true;
      if (w.ctl.cancelRequested()) return false;
      await new Promise((r) => setTimeout(r, Math.min(wait, 1000)));
    }
  }

  // What the run did goes to GitHub: pushed to the branch with a draft pull request (opened once,
  // its description from the first turn), threaded replies to review comments, and an answer
  // comment on the issue when there is no change, a question, or a follow-up from the issue.
  private async answer(w: Work, caller: GitCaller, run: RunEntity): Promise<Outcome> {
    const steps = await this.runs.listSteps(run.id);
    const reply = String(steps.find((s) => s.kind === 'run_completed')?.data['reply'] ?? '');
    const figures: RunFigures = { tokens: Number(run.inputTokens) + Number(run.outputTokens), costUsd: Number(run.costUsd), iterations: run.iterations };
    const previous = w.task.answeredRunId ? await this.runs.findRun(w.task.answeredRunId) : null;
    const from = previous?.commitSha || w.task.baseSha || '';
    const diff = await this.git.diff(caller, { fromRevision: from, toRevision: run.commitSha || 'HEAD' });
    const files = diff.files.map((f) => f.path).filter((path) => path !== SCREENSHOT_PATH);
    const mode = answerModeOf(w.project);
    const repo = w.project.repository;
    const followUps = await this.followUps.forRun(run.id);
    const firstTurn = !w.task.answeredRunId;
    let pushed = false;
    if (mode !== 'comment' && files.length > 0) {
      const preview = await this.preview(w, caller, steps);
      const token = await this.github.gitToken(w.auth, repo);
      await this.git.push(caller, { token, branch: w.task.branch });
      pushed = true;
      const section = preview ? previewSection(preview) : undefined;
      const body = pullBody({ issueNumber: w.task.issueNumber, reply, files, run: figures, runId: run.id, preview: section });
      const title = pullTitle({ number: w.task.issueNumber, title: w.task.title });
      const open = await this.github.findOpenPull(w.auth, repo, w.task.branch);
      const pull = open ?? (await this.github.createDraftPull(w.auth, repo, { head: w.task.branch, base: w.project.baseBranch, title, body }));
      if (open) {
        // The first turn writes the description; a later one keeps it and replaces only the preview section.
        const next = firstTurn ? body : section ? withPreviewSection(open.body, section) : open.body;
        if (firstTurn || next !== open.body) await this.github.updatePull(w.auth, repo, open.number, next);
      }
      if (w.task.pullNumber !== pull.number) await this.record(w, { pullNumber: pull.number, answerUrl: pull.url });
    }
    for (const f of followUps) {
      if (f.source !== 'review_comment' || !f.reviewCommentId || !f.pullNumber || f.replyId) continue;
      const found = await this.github.findReviewComment(w.auth, repo, f.pullNumber, replyMarker(f.id));
      const body = threadReply(f.id, reply, pushed ? (run.commitSha ?? undefined) : undefined);
      const posted = found ?? (await this.github.replyToReviewComment(w.auth, repo, f.pullNumber, Number(f.reviewCommentId), body));
      await this.followUps.recordReply(f.id, posted.id);
    }
    const question = files.length === 0 && asksQuestion(reply);
    const onIssue = followUps.some((f) => f.source !== 'review_comment');
    if (!pushed || question || (!firstTurn && onIssue)) {
      const found = await this.github.findComment(w.auth, repo, w.task.issueNumber, answerMarker(run.id));
      const comment = found ?? (await this.github.createComment(w.auth, repo, w.task.issueNumber, answerBody({ reply, run: figures, runId: run.id })));
      if (!pushed && !w.task.pullNumber) await this.record(w, { answerCommentId: String(comment.id), answerUrl: comment.url });
    }
    await this.record(w, { answeredRunId: run.id });
    if (question) return { status: 'awaiting_response', state: { state: 'awaiting' } };
    return outcomeOf(w.task);
  }

  // The run's last preview check, for the pull request. A web app's screenshot is committed to the
  // branch (pushed with the turn) so that the body links it at that commit; writing the same
  // image again after a crash commits nothing new.
  private async preview(w: Work, caller: GitCaller, steps: Array<{ kind: string; data: Record<string, unknown> }>): Promise<PreviewReport | undefined> {
    const report = previewReportOf(steps);
    if (!report?.screenshot) return report;
    try {
      await this.previews.saveScreenshot({ teamId: w.task.teamId, appId: caller.appId, sha: report.sha, path: SCREENSHOT_PATH });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // Kept a while only (PREVIEW_SCREENSHOT_TTL_SECONDS): the result still goes in, without the image.
      this.logger.warn({ err, taskId: w.task.id, sha: report.sha }, 'preview screenshot not committed');
      return report;
    }
    const commit = await this.git.commit(caller, `Preview screenshot of ${report.sha.slice(0, 12)}`, AGENT);
    return { ...report, imageUrl: screenshotUrl(this.env.GITHUB_GIT_URL, w.project.repository, commit.sha) };
  }

  private async fail(w: Work, code: string, reason: string): Promise<void> {
    try {
      await this.end(w, 'failed', { state: 'failed', reason }, { errorCode: code.slice(0, 64), errorMessage: reason.slice(0, 2000) });
    } catch (err) {
      if (err instanceof TaskLost) return;
      // GitHub itself may be what failed: the task still ends, its labels wait for a retry.
      this.logger.warn({ err, taskId: w.task.id }, 'could not report the failure on GitHub');
      if (await this.leases.finish(w.task.id, w.ctl.owner, 'failed', { errorCode: code.slice(0, 64), errorMessage: reason.slice(0, 2000) }))
        this.finished(w, 'failed');
    }
  }

  // Labels and status comment first, the row last: a crash in between resumes and ends again.
  private async end(w: Work, status: TaskStatusName, state: StatusState, fields: TaskFields = {}): Promise<void> {
    const { labels } = w.project;
    const repo = w.project.repository;
    if (w.ctl.lost()) throw new TaskLost();
    await this.status(w, state);
    const outcomeLabels: Partial<Record<TaskStatusName, string>> = {
      completed: labels.completed,
      failed: labels.failed,
      awaiting_response: labels.awaitingResponse,
    };
    const label = outcomeLabels[status];
    if (label) await this.github.addLabels(w.auth, repo, w.task.issueNumber, [label]);
    await this.github.removeLabel(w.auth, repo, w.task.issueNumber, labels.processing);
    if (!(await this.leases.finish(w.task.id, w.ctl.owner, status, fields))) throw new TaskLost();
    this.finished(w, status);
    this.logger.info({ taskId: w.task.id, status, issue: w.task.issueNumber, repository: repo }, 'task finished');
  }

  private finished(w: Work, status: TaskStatusName): void {
    this.metrics.taskFinished(w.project.id, w.task.priority, status, (Date.now() - w.started) / 1000);
  }

  // The one status comment of the task, edited in place.
  private async status(w: Work, state: StatusState): Promise<void> {
    const body = statusBody(w.task.id, state);
    const repo = w.project.repository;
    let id = w.task.statusCommentId
      ? Number(w.task.statusCommentId)
      : (await this.github.findComment(w.auth, repo, w.task.issueNumber, statusMarker(w.task.id)))?.id;
    if (id === undefined) id = (await this.github.createComment(w.auth, repo, w.task.issueNumber, body)).id;
    else await this.github.updateComment(w.auth, repo, id, body);
    if (w.task.statusCommentId !== String(id)) await this.record(w, { statusCommentId: String(id) });
  }

  private async record(w: Work, fields: TaskFields): Promise<void> {
    if (!(await this.leases.record(w.task.id, w.ctl.owner, fields))) throw new TaskLost();
    Object.assign(w.task, fields);
  }
}

interface Outcome {
  status: TaskStatusName;
  state: StatusState;
}

// How a task that answered ends: with its pull request, or with its answer comment.
function outcomeOf(task: TaskEntity): Outcome {
  const answer = task.pullNumber ? `draft pull request #${task.pullNumber}` : 'answered in a comment below';
  return { status: 'completed', state: { state: 'completed', answer } };
}

function answerModeOf(project: ProjectEntity): 'auto' | 'pull_request' | 'comment' {
  return project.answerMode === 'comment' || project.answerMode === 'pull_request' ? project.answerMode : 'auto';
}

import { AppError, ErrorCode } from '@overskill/contracts';
import pino from 'pino';
import type { AppsRepository } from '../apps/apps.repository';
import { orchestratorEnvSchema } from '../config';
import type { GitServiceRepository } from '../delegation/git-service.repository';
import type { PreviewCheckRepository } from '../delegation/preview-check.repository';
import type { GitHubRepository } from '../github/github.repository';
import type { ProjectEntity, RunEntity, TaskEntity, TaskFollowUpEntity } from '../persistence/entities';
import type { ProjectsRepository } from '../projects/projects.repository';
import type { ProjectsService } from '../projects/projects.service';
import type { RunQueueRepository } from '../runs/run-queue.repository';
import type { RunsRepository } from '../runs/runs.repository';
import type { FollowUpsRepository } from '../task-follow-ups/follow-ups.repository';
import type { TaskMetrics } from '../tasks/task-metrics';
import type { TaskLeasesRepository } from './task-leases.repository';
import { TaskRunnerService } from './task-runner.service';
import { statusMarker } from './task-text';

// The runner alone, with mocked repositories: a task resumed after a crash finds the side
// effects it made before (status comment by its marker, pull request by its branch) and makes
// none twice; a refused push ends the task failed, with the reason on the issue; follow-ups are
// worked as a new turn on the same branch and pull request; a question waits for an answer.
describe('TaskRunnerService with mocked repositories', () => {
  const env = orchestratorEnvSchema.parse({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' });
  const project = {
    id: 'p1',
    teamId: 'team-1',
    repository: 'acme/shop',
    baseBranch: 'main',
    answerMode: 'auto',
    labels: { trigger: 'overskill', processing: 'processing', awaitingResponse: 'awaiting-response', completed: 'completed', failed: 'failed' },
  } as unknown as ProjectEntity;
  const run = {
    id: 'run-1',
    status: 'completed',
    inputTokens: '100',
    outputTokens: '20',
    costUsd: '0.001200',
    iterations: 2,
    commitSha: 'c'.repeat(40),
    errorCode: null,
    errorMessage: null,
  } as unknown as RunEntity;
  let task: TaskEntity;
  let github: Record<string, jest.Mock>;
  let git: Record<string, jest.Mock>;
  let leases: Record<string, jest.Mock>;
  let followUps: Record<string, jest.Mock>;
  let runs: Record<string, jest.Mock>;
  let previews: Record<string, jest.Mock>;
  let runner: TaskRunnerService;
  const ctl = { owner: 'me', lost: () => false, cancelRequested: () => false };

  beforeEach(() => {
    // Resumed: the workspace and the run exist, the status comment was posted but its id not recorded.
    task = {
      id: 't1',
      teamId: 'team-1',
      projectId: 'p1',
      issueNumber: 7,
      title: 'Add a footer',
      priority: 50,
      branch: 'overskill/issue-7',
      appId: 'app-1',
      baseSha: 'b'.repeat(40),
      runId: 'run-1',
      statusCommentId: null,
      attempts: 2,
      startedAt: new Date(),
    } as unknown as TaskEntity;
    github = {
      addLabels: jest.fn(async () => undefined),
      removeLabel: jest.fn(async () => undefined),
      findComment: jest.fn(async (_a, _r, _n, marker: string) => (marker === statusMarker('t1') ? { id: 501, url: 'u' } : undefined)),
      createComment: jest.fn(async () => ({ id: 999, url: 'c' })),
      updateComment: jest.fn(async () => undefined),
      findOpenPull: jest.fn(async () => ({ number: 12, url: 'https://github.com/acme/shop/pull/12' })),
      createDraftPull: jest.fn(),
      updatePull: jest.fn(async () => undefined),
      gitToken: jest.fn(async () => 'ghp_secret'),
      issue: jest.fn(async () => ({ title: 'Add a footer', body: '', state: 'open', labels: ['overskill', 'processing'] })),
      findReviewComment: jest.fn(async () => undefined),
      replyToReviewComment: jest.fn(async () => ({ id: 7001 })),
      withPriority: jest.fn((_priority: number, fn: () => Promise<unknown>) => fn()),
    };
    git = {
      diff: jest.fn(async () => ({ files: [{ path: 'footer.html' }] })),
      push: jest.fn(async () => ({ branch: 'overskill/issue-7', sha: 'c'.repeat(40), upToDate: true })),
      clone: jest.fn(),
      createBranch: jest.fn(),
      commit: jest.fn(async () => ({ sha: 'e'.repeat(40), created: true, filesChanged: 1 })),
    };
    previews = { saveScreenshot: jest.fn(async () => ({ path: '.overskill/preview.png', bytes: 1234 })) };
    leases = { record: jest.fn(async () => true), finish: jest.fn(async () => true), release: jest.fn(), attachRun: jest.fn(), defer: jest.fn() };
    followUps = { nextReadyAt: jest.fn(async () => undefined), forRun: jest.fn(async () => []), recordReply: jest.fn(async () => undefined) };
    runs = { findRun: jest.fn(async () => run), listSteps: jest.fn(async () => [{ kind: 'run_completed', data: { reply: 'Added a footer.' } }]) };
    runner = new TaskRunnerService(
      env,
      leases as unknown as TaskLeasesRepository,
      { findForTeam: jest.fn(async () => project) } as unknown as ProjectsRepository,
      { authOf: () => ({ kind: 'token', token: 'ghp_secret' }) } as unknown as ProjectsService,
      github as unknown as GitHubRepository,
      git as unknown as GitServiceRepository,
      { insertTaskWorkspace: jest.fn(), setInitSha: jest.fn() } as unknown as AppsRepository,
      runs as unknown as RunsRepository,
      { enqueue: jest.fn() } as unknown as RunQueueRepository,
      { taskFinished: jest.fn() } as unknown as TaskMetrics,
      followUps as unknown as FollowUpsRepository,
      previews as unknown as PreviewCheckRepository,
      pino({ level: 'silent' }),
    );
  });

  it('resumed after a crash: edits the status comment and the pull request it finds, creates neither again', async () => {
    await runner.work(task, ctl);
    expect(git.clone).not.toHaveBeenCalled();
    expect(leases['attachRun']).not.toHaveBeenCalled();
    expect(github['createComment']).not.toHaveBeenCalled();
    expect(github['createDraftPull']).not.toHaveBeenCalled();
    expect(github['updateComment']).toHaveBeenCalledWith(expect.anything(), 'acme/shop', 501, expect.stringContaining('draft pull request #12'));
    expect(github['updatePull']).toHaveBeenCalledWith(expect.anything(), 'acme/shop', 12, expect.stringContaining('120 tokens, $0.0012, 2 model turns'));
    expect(git['push']).toHaveBeenCalledWith({ teamId: 'team-1', appId: 'app-1' }, { token: 'ghp_secret', branch: 'overskill/issue-7' });
    expect(leases['record']).toHaveBeenCalledWith('t1', 'me', { statusCommentId: '501' });
    expect(leases['finish']).toHaveBeenCalledWith('t1', 'me', 'completed', {});
    expect(github['addLabels']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 7, ['completed']);
    expect(github['removeLabel']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 7, 'processing');
    // Only labels that change are written: processing was there, no outcome label was.
    expect(github['addLabels']).toHaveBeenCalledTimes(1);
    expect(github['removeLabel']).toHaveBeenCalledTimes(1);
  });

  it('resumed after a crash between the clone and its record: the branch starts at the commit the clone left', async () => {
    task.baseSha = null as unknown as string;
    git['clone']!.mockRejectedValue(new AppError(ErrorCode.GIT_REPO_EXISTS, 'App app-1 already has a repository'));
    git['head'] = jest.fn(async () => ({ headSha: 'd'.repeat(40), branch: 'main', detached: false }));
    git['createBranch']!.mockResolvedValue({ branch: 'overskill/issue-7' });
    await runner.work(task, ctl);
    expect(git['head']).toHaveBeenCalledWith({ teamId: 'team-1', appId: 'app-1' });
    expect(git['createBranch']).toHaveBeenCalledWith({ teamId: 'team-1', appId: 'app-1' }, 'overskill/issue-7', 'd'.repeat(40));
    expect(leases['record']).toHaveBeenCalledWith('t1', 'me', { baseSha: 'd'.repeat(40) });
  });

  it("a web app's preview check goes in the pull request: its screenshot committed before the push and linked at that commit", async () => {
    const check = {
      kind: 'preview_check',
      data: { sha: 'c'.repeat(40), outcome: 'failed', pageErrors: ['Error: boom'], consoleErrors: [], failedRequests: [], screenshot: true },
    };
    runs['listSteps']!.mockResolvedValue([check, { kind: 'run_completed', data: { reply: 'Added a footer.' } }]);
    git['diff']!.mockResolvedValue({ files: [{ path: 'footer.html' }, { path: '.overskill/preview.png' }] });
    await runner.work(task, ctl);
    expect(previews['saveScreenshot']).toHaveBeenCalledWith({ teamId: 'team-1', appId: 'app-1', sha: 'c'.repeat(40), path: '.overskill/preview.png' });
    expect(git['commit']!.mock.invocationCallOrder[0]).toBeLessThan(git['push']!.mock.invocationCallOrder[0]!);
    const body = String(github['updatePull']!.mock.calls[0]?.[3]);
    expect(body).toContain('❌ **Failed**');
    expect(body).toContain('- ` Error: boom `');
    expect(body).toContain(`](https://github.com/acme/shop/blob/${'e'.repeat(40)}/.overskill/preview.png?raw=true)`);
    expect(body).toContain('## Files (1)');
    expect(body).not.toContain('ghp_secret');
  });

  it('a later turn replaces only the preview section of the description; a screenshot that expired leaves the result without an image', async () => {
    Object.assign(task, { answeredRunId: 'run-1', pullNumber: 12, statusCommentId: '501' });
    followUps['nextReadyAt']!.mockResolvedValueOnce(new Date(0)).mockResolvedValue(undefined);
    leases['attachRun']!.mockResolvedValue('run-2');
    runs['findRun']!.mockImplementation(async (id: string) => ({ ...run, id, commitSha: id === 'run-2' ? 'd'.repeat(40) : run.commitSha }));
    const check = { kind: 'preview_check', data: { sha: 'd'.repeat(40), outcome: 'passed', loadMs: 120, screenshot: true } };
    runs['listSteps']!.mockResolvedValue([check, { kind: 'run_completed', data: { reply: 'Fixed it.' } }]);
    previews['saveScreenshot']!.mockRejectedValue(new AppError(ErrorCode.PREVIEW_SCREENSHOT_NOT_FOUND, 'No screenshot'));
    const old = 'First description\n\n<!-- overskill:preview -->\n## Preview check\n❌ **Failed**\n<!-- /overskill:preview -->\n\nAfter';
    github['findOpenPull']!.mockResolvedValue({ number: 12, url: 'u', body: old });
    await runner.work(task, ctl);
    expect(git['commit']).not.toHaveBeenCalled();
    expect(github['updatePull']).toHaveBeenCalledTimes(1);
    const body = String(github['updatePull']!.mock.calls[0]?.[3]);
    expect(body).toMatch(/^First description\n\n<!-- overskill:preview -->\n## Preview check\n✅ \*\*Passed\*\*: .* \(loaded in 120 ms\)/);
    expect(body).not.toContain('Failed');
    expect(body).not.toContain('![');
    expect(body.endsWith('<!-- /overskill:preview -->\n\nAfter')).toBe(true);
  });

  it('a refused push ends the task failed: the failed label, the reason in the status comment, no pull request', async () => {
    git['push']!.mockRejectedValue(new AppError(ErrorCode.GIT_PUSH_REJECTED, 'The remote has commits this repository does not have; nothing was overwritten'));
    github['findOpenPull']!.mockResolvedValue(undefined);
    await runner.work(task, ctl);
    expect(github['createDraftPull']).not.toHaveBeenCalled();
    expect(github['updateComment']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 501, expect.stringContaining('nothing was overwritten'));
    expect(github['addLabels']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 7, ['failed']);
    expect(leases['finish']).toHaveBeenCalledWith('t1', 'me', 'failed', {
      errorCode: ErrorCode.GIT_PUSH_REJECTED,
      errorMessage: expect.stringContaining('nothing was overwritten'),
    });
  });

  it('our own trouble (not an AppError) gives the lease back for another attempt, without touching the labels', async () => {
    git['diff']!.mockRejectedValue(new Error('connection reset'));
    await runner.work(task, ctl);
    expect(leases['release']).toHaveBeenCalledWith('t1', 'me');
    expect(leases['finish']).not.toHaveBeenCalled();
    expect(github['addLabels']).not.toHaveBeenCalledWith(expect.anything(), 'acme/shop', 7, ['failed']);
  });

  it('works follow-ups as a new turn: one run for the review comments, one push, a threaded reply to each, the description kept', async () => {
    Object.assign(task, { answeredRunId: 'run-1', pullNumber: 12, statusCommentId: '501' });
    const comments = [
      { id: 'f1', source: 'review_comment', author: 'alice', body: '(on `a.ts` line 3) rename x', reviewCommentId: '301', pullNumber: 12, replyId: null },
      { id: 'f2', source: 'review_comment', author: 'alice', body: '(on `a.ts` line 9) and y', reviewCommentId: '302', pullNumber: 12, replyId: null },
    ] as unknown as TaskFollowUpEntity[];
    followUps['nextReadyAt']!.mockResolvedValueOnce(new Date(0)).mockResolvedValue(undefined);
    followUps['forRun']!.mockImplementation(async (id: string) => (id === 'run-2' ? comments : []));
    let prompt = '';
    leases['attachRun']!.mockImplementation(async (_t, _o, _a, previous: string | null, request: (f: TaskFollowUpEntity[]) => string) => {
      expect(previous).toBe('run-1');
      prompt = request(comments);
      return 'run-2';
    });
    runs['findRun']!.mockImplementation(async (id: string) => ({ ...run, id, commitSha: id === 'run-2' ? 'd'.repeat(40) : run.commitSha }));
    await runner.work(task, ctl);
    expect(prompt).toContain('untrusted-follow-ups');
    expect(prompt).toContain('@alice commented on the pull request:\n(on `a.ts` line 3) rename x');
    expect(git['diff']).toHaveBeenCalledWith(expect.anything(), { fromRevision: 'c'.repeat(40), toRevision: 'd'.repeat(40) });
    expect(git['push']).toHaveBeenCalledTimes(1);
    expect(github['updatePull']).not.toHaveBeenCalled();
    expect(github['createDraftPull']).not.toHaveBeenCalled();
    expect(github['replyToReviewComment']!.mock.calls.map((c) => [c[3], c[4]])).toEqual([
      [301, expect.stringContaining(`Done in ${'d'.repeat(12)}.`)],
      [302, expect.stringContaining('<!-- overskill:task-reply:f2 -->')],
    ]);
    expect(followUps['recordReply']).toHaveBeenCalledWith('f1', 7001);
    // Review comments are answered in their threads only.
    expect(github['createComment']).not.toHaveBeenCalled();
    expect(leases['record']).toHaveBeenCalledWith('t1', 'me', { answeredRunId: 'run-2' });
    expect(leases['finish']).toHaveBeenCalledWith('t1', 'me', 'completed', {});
  });

  it('resumed after its answer with no follow-up waiting: ends without another run or push', async () => {
    Object.assign(task, { answeredRunId: 'run-1', pullNumber: 12, statusCommentId: '501' });
    await runner.work(task, ctl);
    expect(leases['attachRun']).not.toHaveBeenCalled();
    expect(git['push']).not.toHaveBeenCalled();
    expect(github['updateComment']).toHaveBeenCalledWith(expect.anything(), 'acme/shop', 501, expect.stringContaining('draft pull request #12'));
    expect(leases['finish']).toHaveBeenCalledWith('t1', 'me', 'completed', {});
  });

  it('a question and no change: the answer comment, the awaiting-response label, and the task waits', async () => {
    git['diff']!.mockResolvedValue({ files: [] });
    runs['listSteps']!.mockResolvedValue([{ kind: 'run_completed', data: { reply: 'Where should the footer go?\n\nAt the bottom of **every** page?' } }]);
    await runner.work(task, ctl);
    expect(git['push']).not.toHaveBeenCalled();
    expect(github['createComment']).toHaveBeenCalledWith(expect.anything(), 'acme/shop', 7, expect.stringContaining('At the bottom of **every** page?'));
    expect(github['updateComment']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 501, expect.stringContaining('asked a question'));
    expect(github['addLabels']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 7, ['awaiting-response']);
    expect(leases['finish']).toHaveBeenCalledWith('t1', 'me', 'awaiting_response', {});
  });

  it('waits for the GitHub quota instead of failing: the task is given back until the reset, at its priority', async () => {
    const reset = Date.now() + 600_000;
    github['issue']!.mockRejectedValue(new AppError(ErrorCode.GITHUB_RATE_LIMITED, 'GitHub quota is low', { retryAt: String(reset) }));
    await runner.work(task, ctl);
    expect(github['withPriority']).toHaveBeenCalledWith(50, expect.any(Function));
    expect(leases['defer']).toHaveBeenCalledWith('t1', 'me', new Date(reset));
    expect(leases['finish']).not.toHaveBeenCalled();
    expect(github['updateComment']).not.toHaveBeenCalled();
  });

  it('a started task that hits the quota says so on the issue: processing removed and the status comment edited with the reset, at urgent priority', async () => {
    Object.assign(task, { statusCommentId: '501' });
    const reset = Date.UTC(2026, 11, 5, 4, 30, 0);
    github['findOpenPull']!.mockRejectedValue(new AppError(ErrorCode.GITHUB_RATE_LIMITED, 'GitHub quota is low', { retryAt: String(reset) }));
    await runner.work(task, ctl);
    expect(github['withPriority']).toHaveBeenLastCalledWith(75, expect.any(Function));
    expect(github['removeLabel']).toHaveBeenLastCalledWith(expect.anything(), 'acme/shop', 7, 'processing');
    expect(github['updateComment']).toHaveBeenLastCalledWith(
      expect.anything(),
      'acme/shop',
      501,
      expect.stringContaining("waits for GitHub's API quota for this repository until 2026-12-05 04:30 UTC"),
    );
    expect(github['createComment']).not.toHaveBeenCalled();
    expect(leases['defer']).toHaveBeenCalledWith('t1', 'me', new Date(reset));
    expect(leases['finish']).not.toHaveBeenCalled();
  });

  it('when GitHub takes no request at all, the task still waits for the reset', async () => {
    Object.assign(task, { statusCommentId: '501' });
    const reset = Date.now() + 60_000;
    const spent = new AppError(ErrorCode.GITHUB_RATE_LIMITED, 'spent', { retryAt: String(reset) });
    github['findOpenPull']!.mockRejectedValue(spent);
    github['updateComment']!.mockImplementation(async (_a, _r, _id, body: string) => {
      if (body.includes('waits for')) throw spent;
    });
    await runner.work(task, ctl);
    expect(leases['defer']).toHaveBeenCalledWith('t1', 'me', new Date(reset));
  });
});

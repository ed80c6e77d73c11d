import { Inject, Injectable } from '@nestjs/common';
import { AppError, type toolV1 } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import type { RunEntity, RunStepEntity } from '../persistence/entities';
import { PreviewCheckRepository } from '../delegation/preview-check.repository';
import type { RunJournal } from './run-journal';

export const PREVIEW_CHECK_STEP = 'preview_check';
// How a check's errors open the model's next turn (the demo script recognizes it too).
export const PREVIEW_FEEDBACK_PREFIX = 'The preview shows these errors';
const MAX_LISTED = 10;

type CheckFindings = Pick<
  toolV1.PreviewCheckResult,
  'outcome' | 'consoleErrors' | 'pageErrors' | 'failedRequests' | 'blank' | 'loadMs' | 'screenshot' | 'reason'
>;

// After a turn commits: check the preview of that version, record it as a `preview_check` step,
// and when it found errors hand them to the model as a new turn, at most PREVIEW_AUTOFIX_TURNS
// times per message. The agent loop continues when this says so.
@Injectable()
export class PreviewAutofix {
  constructor(
    private readonly checks: PreviewCheckRepository,
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'PREVIEW_CHECK' | 'PREVIEW_AUTOFIX_TURNS'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // The commit step of the current round (after the last feedback turn), when it was recorded.
  roundCommit(steps: readonly RunStepEntity[]): RunStepEntity | undefined {
    const since = steps.findLastIndex((s) => isFeedbackStep(s));
    return steps.slice(since + 1).find((s) => s.kind === 'commit');
  }

  // True when the run goes on with a feedback turn (the step carrying it is written).
  async afterCommit(run: RunEntity, journal: RunJournal, commit: { sha: string }): Promise<boolean> {
    if (this.env.PREVIEW_CHECK === 'off' || !commit.sha) return false;
    // Resumed after a crash, or a turn that changed nothing: this version was checked already.
    const done = journal.steps.find((s) => s.kind === PREVIEW_CHECK_STEP && s.data['sha'] === commit.sha);
    if (done) return isFeedbackStep(done) && done === journal.steps.at(-1);
    journal.throwIfStopped();
    const findings = await this.findings(run, commit.sha);
    const used = journal.steps.filter(isFeedbackStep).length;
    const feedback = findings.outcome === 'failed' && used < this.env.PREVIEW_AUTOFIX_TURNS ? feedbackText(findings) : undefined;
    await journal.step(PREVIEW_CHECK_STEP, summaryOf(findings, feedback !== undefined, used, this.env.PREVIEW_AUTOFIX_TURNS), {
      sha: commit.sha,
      ...findings,
      ...(feedback ? { feedback, autofixTurn: used + 1 } : {}),
    });
    return feedback !== undefined;
  }

  private async findings(run: RunEntity, sha: string): Promise<CheckFindings> {
    try {
      const r = await this.checks.check({ teamId: run.teamId, appId: run.appId, runId: run.id, sha });
      return {
        outcome: r.outcome,
        consoleErrors: r.consoleErrors,
        pageErrors: r.pageErrors,
        failedRequests: r.failedRequests,
        blank: r.blank,
        loadMs: r.loadMs,
        screenshot: r.screenshot,
        reason: r.reason,
      };
    } catch (err) {
      // A check that cannot run says so; it never passes in silence, and never fails the run.
      if (!(err instanceof AppError)) throw err;
      this.logger.warn({ err, runId: run.id }, 'preview check unavailable');
      return {
        outcome: 'unavailable',
        consoleErrors: [],
        pageErrors: [],
        failedRequests: [],
        blank: false,
        loadMs: 0,
        screenshot: false,
        reason: `The preview check could not run: ${err.message} (${err.code})`,
      };
    }
  }
}

export function isFeedbackStep(step: RunStepEntity): boolean {
  return step.kind === PREVIEW_CHECK_STEP && typeof step.data['feedback'] === 'string';
}

export function feedbackOf(step: RunStepEntity): string {
  return String(step.data['feedback'] ?? '');
}

function list(title: string, items: string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, MAX_LISTED).map((i) => `- ${i}`);
  return [`${title}:`, ...shown, ...(items.length > MAX_LISTED ? [`- … and ${items.length - MAX_LISTED} more`] : [])];
}

function feedbackText(f: CheckFindings): string {
  return [
    `${PREVIEW_FEEDBACK_PREFIX} (a headless browser opened the version you just committed):`,
    ...list('Uncaught exceptions', f.pageErrors),
    ...list('Console errors', f.consoleErrors),
    ...list('Failed requests', f.failedRequests),
    ...(f.blank ? ['The page is blank: nothing visible after it loaded.'] : []),
    'Fix them, then end your turn.',
  ].join('\n');
}

function summaryOf(f: CheckFindings, continuing: boolean, used: number, max: number): string {
  if (f.outcome === 'passed') return `Preview check passed (loaded in ${Math.round(f.loadMs)} ms)`;
  if (f.outcome !== 'failed') return `Preview not checked: ${f.reason}`;
  const counts = [
    f.pageErrors.length && `${f.pageErrors.length} uncaught exception(s)`,
    f.consoleErrors.length && `${f.consoleErrors.length} console error(s)`,
    f.failedRequests.length && `${f.failedRequests.length} failed request(s)`,
    f.blank && 'a blank page',
  ].filter(Boolean);
  const next = continuing ? `; asking the agent to fix them (${used + 1} of ${max})` : max > 0 ? `; not fixed automatically again (${max} of ${max} used)` : '';
  return `Preview check found ${counts.join(', ')}${next}`;
}

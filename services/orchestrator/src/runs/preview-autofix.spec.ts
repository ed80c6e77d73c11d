import { AppError, ErrorCode, type toolV1 } from '@overskill/contracts';
import pino from 'pino';
import type { RunEntity, RunStepEntity } from '../persistence/entities';
import { PREVIEW_CHECK_STEP, PREVIEW_FEEDBACK_PREFIX, PreviewAutofix } from './preview-autofix';
import type { PreviewCheckRepository } from '../delegation/preview-check.repository';
import type { RunJournal } from './run-journal';

// The collaborator with a fake check repository and an in-memory journal.
describe('PreviewAutofix', () => {
  const run = { id: 'run-1', teamId: 'team-1', appId: 'app-1' } as RunEntity;
  let steps: RunStepEntity[];
  let journal: RunJournal;
  let results: Array<Partial<toolV1.PreviewCheckResult> | Error>;
  let autofix: PreviewAutofix;

  const failing = {
    outcome: 'failed',
    pageErrors: ['ReferenceError: renderAll is not defined\n    at app.js:3'],
    consoleErrors: ['Uncaught ReferenceError'],
    failedRequests: ['GET /api → 404'],
    blank: false,
    loadMs: 80,
  };

  beforeEach(() => {
    steps = [];
    journal = {
      steps,
      throwIfStopped: jest.fn(),
      step: jest.fn(async (kind: string, summary: string, data: Record<string, unknown>) => void steps.push({ kind, summary, data } as RunStepEntity)),
    } as unknown as RunJournal;
    results = [];
    const checks = {
      check: jest.fn(async () => {
        const next = results.shift() ?? { outcome: 'passed' };
        if (next instanceof Error) throw next;
        return { consoleErrors: [], pageErrors: [], failedRequests: [], blank: false, loadMs: 10, screenshot: true, reason: '', ...next };
      }),
    } as unknown as PreviewCheckRepository;
    autofix = new PreviewAutofix(checks, { PREVIEW_CHECK: 'on', PREVIEW_AUTOFIX_TURNS: 2 }, pino({ level: 'silent' }));
  });

  it('hands the errors to the model as a new turn, at most PREVIEW_AUTOFIX_TURNS times', async () => {
    results.push(failing, failing, failing);
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-1' })).toBe(true);
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-2' })).toBe(true);
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-3' })).toBe(false);
    expect(steps.map((s) => s.kind)).toEqual([PREVIEW_CHECK_STEP, PREVIEW_CHECK_STEP, PREVIEW_CHECK_STEP]);
    expect(steps.map((s) => s.data['autofixTurn'])).toEqual([1, 2, undefined]);
    const feedback = String(steps[0]?.data['feedback']);
    expect(feedback.startsWith(PREVIEW_FEEDBACK_PREFIX)).toBe(true);
    expect(feedback).toContain('Uncaught exceptions:\n- ReferenceError: renderAll is not defined');
    expect(feedback).toContain('Failed requests:\n- GET /api → 404');
    expect(steps[2]?.summary).toBe(
      'Preview check found 1 uncaught exception(s), 1 console error(s), 1 failed request(s); not fixed automatically again (2 of 2 used)',
    );
  });

  it('passes quietly, and says so when the check could not run', async () => {
    results.push({ outcome: 'passed', loadMs: 123.4 }, new AppError(ErrorCode.RPC_NO_RESPONDERS, 'no responders'));
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-1' })).toBe(false);
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-2' })).toBe(false);
    expect(steps.map((s) => s.summary)).toEqual([
      'Preview check passed (loaded in 123 ms)',
      'Preview not checked: The preview check could not run: no responders (RPC_NO_RESPONDERS)',
    ]);
    expect(steps[1]?.data['outcome']).toBe('unavailable');
  });

  it('does not check the same version twice, and continues a recorded feedback turn on resume', async () => {
    results.push(failing);
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-1' })).toBe(true);
    // Resumed right after the step: the feedback turn is still to be taken.
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-1' })).toBe(true);
    steps.push({ kind: 'commit', data: { sha: 'sha-1', created: false } } as unknown as RunStepEntity);
    expect(await autofix.afterCommit(run, journal, { sha: 'sha-1' })).toBe(false);
    expect(autofix.roundCommit(steps)?.data['sha']).toBe('sha-1');
    expect(steps.filter((s) => s.kind === PREVIEW_CHECK_STEP)).toHaveLength(1);
  });

  it('checks nothing when switched off', async () => {
    const off = new PreviewAutofix(
      { check: jest.fn() } as unknown as PreviewCheckRepository,
      { PREVIEW_CHECK: 'off', PREVIEW_AUTOFIX_TURNS: 2 },
      pino({ level: 'silent' }),
    );
    expect(await off.afterCommit(run, journal, { sha: 'sha-1' })).toBe(false);
    expect(steps).toEqual([]);
  });
});

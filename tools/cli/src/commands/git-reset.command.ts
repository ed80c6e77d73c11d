import { fromBinary } from '@bufbuild/protobuf';
import { gitProgressSubject, gitV1, Rpc } from '@overskill/contracts';
import { randomBytes } from 'node:crypto';
import type { CliContext } from '../cli-context';
import type { CliCommand } from '../command';
import { ProgressLine } from '../progress/progress-line';

// Every repository on the volume, each under its app lock: long on a big volume.
const RESET_TIMEOUT_MS = 30 * 60_000;
const ACTION_LABEL: Record<string, string> = {
  removed: 'removed',
  would_remove: 'would remove',
  aborted: 'aborted',
  would_abort: 'would abort',
  kept_in_use: 'left (in use)',
  cannot_fix: 'CANNOT FIX',
  skipped_busy: 'skipped (busy)',
};

// Repositories checked so far, with a rate and an ETA, as git-service reports them.
async function withRepoProgress<T extends { scanned: number }>(ctx: CliContext, json: boolean, work: (subject: string) => Promise<T>): Promise<T> {
  const subject = gitProgressSubject(randomBytes(12).toString('base64url'));
  const progress = new ProgressLine('git reset', 'repositories', json);
  let shown = -1;
  const unsubscribe = ctx.subscribe(subject, (data) => {
    const p = fromBinary(gitV1.RepoResetProgressSchema, data);
    shown = p.done;
    progress.update(p.done, p.total);
  });
  try {
    const result = await work(subject);
    // The reply may overtake the last progress message (another subscription): end on the reply's count.
    if (shown !== result.scanned) progress.update(result.scanned, result.scanned);
    return result;
  } finally {
    unsubscribe();
    progress.end();
  }
}

// The seed's "reset Git service": stale locks, interrupted merges/rebases/cherry-picks and broken
// refs in every repository; exit 1 when something could not be repaired.
export const gitResetCommand: CliCommand = {
  words: ['git', 'reset'],
  help: `  git reset [--dry-run] [--json]          Repair every repository: remove stale lock files, abort interrupted merges,
                                          rebases and cherry-picks; report broken refs (--dry-run: report only)`,
  options: { 'dry-run': { type: 'boolean' } },
  async run(ctx, values) {
    const json = values.json === true;
    const dryRun = values['dry-run'] === true;
    const r = await withRepoProgress(ctx, json, (progressSubject) =>
      ctx.rpc.send(Rpc.gitRepoReset, { dryRun, progressSubject }, { timeoutMs: RESET_TIMEOUT_MS }),
    );
    const code = r.problems.some((p) => p.action === 'cannot_fix') ? 1 : 0;
    if (json) {
      const problems = r.problems.map((p) => ({ appId: p.appId, kind: p.kind, path: p.path, action: p.action, detail: p.detail }));
      return {
        text: JSON.stringify({ dryRun: r.dryRun, scanned: r.scanned, repaired: r.repaired, staleLockSeconds: Number(r.staleLockSeconds), problems }),
        code,
      };
    }
    const lines = [`git reset${r.dryRun ? ' (dry run)' : ''}: ${r.scanned} repositories checked, ${r.problems.length} problems`];
    for (const p of r.problems) {
      lines.push(`  ${(ACTION_LABEL[p.action] ?? p.action).padEnd(15)} ${p.kind.padEnd(24)} ${p.appId}  ${p.path}`);
      lines.push(`  ${''.padEnd(15)} ${p.detail}`);
    }
    const fixable = r.problems.filter((p) => p.action === 'would_remove' || p.action === 'would_abort').length;
    if (r.dryRun) lines.push(fixable > 0 ? `Nothing was changed. Run without --dry-run to repair ${fixable}.` : 'Nothing to repair.');
    else lines.push(`Repaired ${r.repaired}.`);
    return { text: lines.join('\n'), code };
  },
};

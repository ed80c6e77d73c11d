import { Rpc } from '@overskill/contracts';
import { formatBytes, parseDuration } from '../progress/units';
import { defineCommand } from '../command';

function formatGrace(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

const ACTION_LABEL: Record<string, string> = { removed: 'removed', would_remove: 'would remove', kept_in_grace_period: 'kept (recent)' };

// The seed's `git cleanup`: repositories whose app is gone, after the grace period.
export const gitCleanup = defineCommand({
  words: ['git', 'cleanup'],
  help: `  git cleanup [--dry-run] [--grace <dur>] Remove repositories whose app is gone and that were untouched for
              [--json]                    the grace period (7d, 12h, 30m; default GIT_ORPHAN_GRACE_SECONDS)`,
  options: { 'dry-run': { type: 'boolean' }, grace: { type: 'string' } },
  async run(ctx, flags) {
    const graceSeconds = flags.grace !== undefined ? parseDuration(flags.grace, '--grace') : 0;
    const dryRun = flags['dry-run'] === true;
    // Sizing and removing many repositories can take a while.
    const result = await ctx.rpc.send(Rpc.gitRepoCleanup, { dryRun, graceSeconds: BigInt(graceSeconds) }, { timeoutMs: 120_000 });
    if (flags.json) {
      return JSON.stringify({
        dryRun: result.dryRun,
        graceSeconds: Number(result.graceSeconds),
        scanned: result.scanned,
        removed: result.removed,
        orphans: result.orphans.map((o) => ({
          appId: o.appId,
          directory: o.directory,
          lastActivityAt: o.lastActivityAt,
          sizeBytes: Number(o.sizeBytes),
          action: o.action,
        })),
      });
    }
    const grace = formatGrace(Number(result.graceSeconds));
    const lines = [
      `git cleanup${result.dryRun ? ' (dry run)' : ''}: ${result.scanned} folders scanned, ${result.orphans.length} without an app; grace period ${grace}`,
    ];
    for (const o of result.orphans) {
      lines.push(
        `  ${(ACTION_LABEL[o.action] ?? o.action).padEnd(13)} ${(o.appId || o.directory).padEnd(36)}  last activity ${o.lastActivityAt}  ${formatBytes(Number(o.sizeBytes))}`,
      );
    }
    const expired = result.orphans.filter((o) => o.action !== 'kept_in_grace_period').length;
    if (result.dryRun) lines.push(expired > 0 ? `Nothing was removed. Run without --dry-run to remove ${expired}.` : 'Nothing to remove.');
    else lines.push(`Removed ${result.removed}.`);
    return lines.join('\n');
  },
});

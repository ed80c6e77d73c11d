import { AppError, backupV1, backupView, ErrorCode, Rpc } from '@overskill/contracts';
import type { CliContext } from '../cli-context';
import { CliError } from '../cli-context';
import { withProgress } from '../progress/backup-progress';
import { formatBytes } from '../progress/units';
import type { CliCommand, OptionSpec, OptionValues } from '../command';

// Long steps (a full backup, a restore) answer when done; the wait is bounded but generous.
const LONG_MS = 4 * 3600_000;

// Each subcommand: its options, how many positionals it takes, and its help lines.
const SUBCOMMANDS: Record<string, { options: OptionSpec; positionals: number; help: string }> = {
  create: {
    options: { type: { type: 'string', required: true }, encrypt: { type: 'boolean' }, compress: { type: 'boolean' }, deploy: { type: 'boolean' } },
    positionals: 0,
    help: `  backup create --type <t> [--encrypt]    One archive of full|database|repos|config|redis|base (tar + zstd, age to every
         [--compress] [--deploy] [--json] recipient with --encrypt; --compress is the default); --deploy marks the
                                          pre-deployment config backup`,
  },
  list: {
    options: { limit: { type: 'string' } },
    positionals: 0,
    help: '  backup list [--limit <n>] [--json]      Backups: id, type, status, size, created, verified, drill result',
  },
  show: { options: { id: { type: 'string' } }, positionals: 1, help: "  backup show <id> [--json]               One backup's catalog row and manifest" },
  verify: {
    options: { file: { type: 'string' }, id: { type: 'string' } },
    positionals: 1,
    help: `  backup verify --file <archive>|--id <id> Decrypt, every checksum, pg_restore --list, git bundle verify, redis-check-rdb
         [--json]`,
  },
  restore: {
    options: {
      file: { type: 'string' },
      id: { type: 'string' },
      target: { type: 'string' },
      force: { type: 'boolean' },
      app: { type: 'string' },
      to: { type: 'string' },
    },
    positionals: 1,
    help: `  backup restore --file <archive>|--id <id> Into scratch (default: a new database and folder) or over live data
         [--target scratch|live] [--force] (--target live needs --force and takes a safety backup first);
         [--app <appId>] [--json]         --app restores only that app's repository
  backup restore --to <time>|latest       The database as of a moment (ISO time with zone): the newest base backup
         [--id <base id>] [--target …]    before it plus the WAL archive, replayed by PostgreSQL`,
  },
  drill: {
    options: { id: { type: 'string' } },
    positionals: 1,
    help: '  backup drill [--id <id>] [--json]       Restore the newest backup into scratch and compare it with its manifest',
  },
  prune: {
    options: { 'dry-run': { type: 'boolean' } },
    positionals: 0,
    help: '  backup prune [--dry-run] [--json]       Apply the retention policy (BACKUP_RETENTION_DAYS, BACKUP_GFS)',
  },
};

const POLL_MS = 1000;

// Starts the backup in the background and follows its catalog row: bytes written, rate, and an
// ETA from how long the previous backup of the same type took (on a terminal; never with --json).
async function createWithProgress(ctx: CliContext, req: { type: string; encrypt: boolean; trigger: string }, json: boolean) {
  const previous = (await ctx.rpc.send(Rpc.backupCatalogList, { limit: 100 })).backups.find(
    (b) => b.kind === req.type && b.status === 'completed' && b.finishedAt,
  );
  const expectedMs = previous ? Date.parse(previous.finishedAt) - Date.parse(previous.createdAt) : 0;
  const started = await ctx.rpc.send(Rpc.backupArchiveCreate, { ...req, background: true });
  const id = started.backup?.id ?? '';
  const t0 = Date.now();
  const show = !json && process.stderr.isTTY;
  for (;;) {
    const r = await ctx.rpc.send(Rpc.backupArchiveGet, { id });
    const b = r.backup;
    if (b && b.status !== 'running') {
      if (show) process.stderr.write('\r\x1b[K');
      if (b.status === 'failed') throw new AppError(ErrorCode.BACKUP_FAILED, `backup ${id} failed: ${b.error}`);
      return r;
    }
    if (Date.now() - t0 > LONG_MS)
      throw new CliError(`backup ${id} is still running after ${LONG_MS / 3600_000} h; follow it with \`overskill backup show ${id}\``);
    if (show && b) {
      const elapsed = (Date.now() - t0) / 1000;
      const bytes = Number(b.progressBytes);
      const eta = expectedMs > 0 ? `, ETA ${Math.max(0, Math.round(expectedMs / 1000 - elapsed))} s` : '';
      process.stderr.write(`\r\x1b[Kbackup ${req.type}: ${formatBytes(bytes)} written, ${formatBytes(bytes / Math.max(elapsed, 1))}/s${eta}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function idOrFile(values: { id?: string; file?: string }, positional: string[], optional = false): { id: string; file: string } {
  const id = values.id ?? (positional[0] && /^[0-9a-f-]{36}$/i.test(positional[0]) ? positional[0] : '');
  const file = values.file ?? (!id && positional[0] ? positional[0] : '');
  if (!id && !file && !optional) throw new CliError('give --file <archive> (a name in BACKUP_DIR) or --id <backup id>');
  return { id, file };
}

async function backupCommand(ctx: CliContext, sub: string, v: OptionValues, positionals: string[]): Promise<{ text: string; code: number }> {
  const values = v as Record<string, string | boolean | undefined>;
  const json = values.json === true;
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  if (sub === 'create') {
    const type = str('type') ?? '';
    const r = await createWithProgress(ctx, { type, encrypt: values.encrypt === true, trigger: values.deploy ? 'deploy' : '' }, json);
    const b = r.backup;
    if (!b) throw new CliError('the backup service answered without a backup');
    if (json) return { text: JSON.stringify({ ...rowJson(b), manifest: r.manifestJson ? JSON.parse(r.manifestJson) : null }), code: 0 };
    return {
      text: `backup ${b.id} (${b.kind}) completed: ${b.fileName}, ${formatBytes(Number(b.sizeBytes))}${b.encrypted ? ', encrypted' : ''}${b.copyPath ? `; copy in ${b.copyPath}` : ''}`,
      code: 0,
    };
  }
  if (sub === 'list') {
    const limit = str('limit') ? Number(str('limit')) : 30;
    if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit takes a positive whole number');
    const r = await ctx.rpc.send(Rpc.backupCatalogList, { limit });
    if (json) return { text: JSON.stringify(r.backups.map(rowJson)), code: 0 };
    const lines = [`${'id'.padEnd(36)}  ${'type'.padEnd(8)}  ${'status'.padEnd(9)}  ${'size'.padStart(9)}  ${'created'.padEnd(24)}  verified  drill`];
    for (const b of r.backups) {
      lines.push(
        `${b.id}  ${b.kind.padEnd(8)}  ${b.status.padEnd(9)}  ${formatBytes(Number(b.sizeBytes)).padStart(9)}  ${b.createdAt.padEnd(24)}  ${(b.verifyError ? 'FAILED' : b.verifiedAt ? 'yes' : '-').padEnd(8)}  ${b.drillResult || '-'}`,
      );
    }
    if (r.backups.length === 0) lines.push('(no backups yet)');
    return { text: lines.join('\n'), code: 0 };
  }
  if (sub === 'show') {
    const id = str('id') ?? positionals[0];
    if (!id) throw new CliError('backup show needs a backup id');
    const r = await ctx.rpc.send(Rpc.backupArchiveGet, { id });
    const manifest = r.manifestJson ? JSON.parse(r.manifestJson) : null;
    if (!r.backup) throw new CliError(`no backup ${id}`);
    return { text: JSON.stringify({ ...rowJson(r.backup), manifest }, null, json ? undefined : 2), code: 0 };
  }
  if (sub === 'verify') {
    const target = idOrFile({ id: str('id'), file: str('file') }, positionals);
    const r = await withProgress(ctx, 'verify', json, (progressSubject) =>
      ctx.rpc.send(Rpc.backupArchiveVerify, { ...target, progressSubject }, { timeoutMs: LONG_MS }),
    );
    if (json)
      return {
        text: JSON.stringify({ ok: r.ok, backupId: r.backupId, file: r.file, checks: r.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })) }),
        code: r.ok ? 0 : 1,
      };
    const lines = r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}${c.ok ? '' : `: ${c.detail}`}`);
    lines.unshift(`${r.file}: ${r.ok ? 'verified' : 'FAILED verification'}`);
    return { text: lines.join('\n'), code: r.ok ? 0 : 1 };
  }
  if (sub === 'restore') {
    // With --to the base backup is chosen by time unless one is named.
    const to = str('to') ?? '';
    const target = idOrFile({ id: str('id'), file: str('file') }, positionals, to !== '');
    const where = str('target') ?? 'scratch';
    const req = { ...target, target: where, force: values.force === true, appId: str('app') ?? '', to };
    const r = await withProgress(ctx, `restore to ${where}`, json, (progressSubject) =>
      ctx.rpc.send(Rpc.backupArchiveRestore, { ...req, progressSubject }, { timeoutMs: LONG_MS }),
    );
    const out = {
      backupId: r.backupId,
      target: r.target,
      scratchDatabase: r.scratchDatabase || null,
      scratchDir: r.scratchDir || null,
      safetyBackupId: r.safetyBackupId || null,
      restored: r.restored,
      durationMs: Number(r.durationMs),
      recoveredTo: r.recoveredTo || null,
      walSegments: r.walSegments,
    };
    if (json) return { text: JSON.stringify(out), code: 0 };
    const lines = [`restored backup ${r.backupId} to ${r.target} in ${(Number(r.durationMs) / 1000).toFixed(1)} s: ${r.restored.join(', ')}`];
    if (r.recoveredTo)
      lines.push(`database as of ${r.recoveredTo} (the last transaction replayed from ${r.walSegments} WAL segments after base backup ${r.backupId})`);
    if (r.safetyBackupId) lines.push(`safety backup of what was replaced: ${r.safetyBackupId}`);
    if (r.scratchDatabase) lines.push(`scratch database: ${r.scratchDatabase} (drop it when done)`);
    if (r.scratchDir) lines.push(`scratch folder: ${r.scratchDir}`);
    return { text: lines.join('\n'), code: 0 };
  }
  if (sub === 'drill') {
    const id = str('id') ?? positionals[0] ?? '';
    const r = await withProgress(ctx, 'drill', json, (progressSubject) => ctx.rpc.send(Rpc.backupDrillRun, { id, progressSubject }, { timeoutMs: LONG_MS }));
    const out = {
      backupId: r.backupId,
      ok: r.ok,
      rtoMs: Number(r.rtoMs),
      findings: r.findings,
      tablesCompared: r.tablesCompared,
      repositoriesCompared: r.repositoriesCompared,
    };
    if (json) return { text: JSON.stringify(out), code: r.ok ? 0 : 1 };
    const head = `drill of backup ${r.backupId}: ${r.ok ? 'passed' : 'FAILED'}; restore took ${(out.rtoMs / 1000).toFixed(1)} s; ${r.tablesCompared} tables and ${r.repositoriesCompared} repositories compared`;
    return { text: [head, ...r.findings.map((f) => `  ${f}`)].join('\n'), code: r.ok ? 0 : 1 };
  }
  if (sub === 'prune') {
    const r = await ctx.rpc.send(Rpc.backupArchivePrune, { dryRun: values['dry-run'] === true }, { timeoutMs: 600_000 });
    if (json)
      return {
        text: JSON.stringify({
          dryRun: r.dryRun,
          walSegments: r.walSegments,
          expired: r.expired.map((e) => ({ id: e.id, kind: e.kind, createdAt: e.createdAt, fileName: e.fileName })),
        }),
        code: 0,
      };
    const wal = r.walSegments > 0 ? ` and ${r.walSegments} WAL segments no kept base backup needs` : '';
    const lines = [
      `${r.dryRun ? 'would remove' : 'removed'} ${r.expired.length} backups${wal}`,
      ...r.expired.map((e) => `  ${e.id}  ${e.kind.padEnd(8)}  ${e.createdAt}  ${e.fileName}`),
    ];
    return { text: lines.join('\n'), code: 0 };
  }
  throw new CliError(`unknown command "backup ${sub}"; see \`npx overskill --help\``);
}

export const BACKUP_COMMANDS: CliCommand[] = Object.entries(SUBCOMMANDS).map(([sub, { options, positionals, help }]) => ({
  words: ['backup', sub],
  help,
  options,
  positionals: { min: 0, max: positionals },
  run: (ctx, values, args) => backupCommand(ctx, sub, values, args),
}));

// The API's view, plus where the second copy of the archive is (the operator's own disks).
function rowJson(b: backupV1.Backup) {
  return { ...backupView(b), copyPath: b.copyPath || null };
}

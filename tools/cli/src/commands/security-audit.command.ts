import { Rpc } from '@overskill/contracts';
import type { CliCommand } from '../command';
import { withProgress } from '../progress/backup-progress';

// npm audit against a slow registry plus every repository's history: minutes on a large volume.
const AUDIT_TIMEOUT_MS = 15 * 60_000;
const ORDER = ['critical', 'high', 'medium', 'low', 'info'];

// The seed's hourly security audit, on demand: exit 1 when it finds anything above info.
export const securityAuditCommand: CliCommand = {
  words: ['security', 'audit'],
  help: `  security audit [--accept] [--json]      Dependencies (npm audit), key file and data folder permissions, credentials in
                                          workspaces, commits and logs (masked), drift from the accepted settings;
                                          --accept records the current settings as the baseline`,
  options: { accept: { type: 'boolean' } },
  async run(ctx, values) {
    const json = values.json === true;
    const r = await withProgress(ctx, 'security audit', json, (progressSubject) =>
      ctx.rpc.send(Rpc.securityAudit, { acceptBaseline: values.accept === true, progressSubject }, { timeoutMs: AUDIT_TIMEOUT_MS }),
    );
    const findings = [...r.findings].sort((a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity));
    const code = findings.some((f) => f.severity !== 'info') ? 1 : 0;
    if (json) {
      const report = {
        auditId: r.auditId,
        startedAt: r.startedAt,
        durationMs: Number(r.durationMs),
        checks: r.checks,
        filesScanned: r.filesScanned,
        commitsScanned: r.commitsScanned,
        baselineAcceptedAt: r.baselineAcceptedAt || null,
        baselineRecorded: r.baselineRecorded,
        findings: findings.map((f) => ({ severity: f.severity, kind: f.kind, location: f.location, message: f.message, fingerprint: f.fingerprint || null })),
      };
      return { text: JSON.stringify(report), code };
    }
    const counts = ORDER.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
    const summary = counts.length > 0 ? counts.map(([s, n]) => `${n} ${s}`).join(', ') : 'nothing found';
    const lines = [
      `security audit ${r.auditId} (${(Number(r.durationMs) / 1000).toFixed(1)} s, ${r.filesScanned} files and ${r.commitsScanned} commits scanned): ${summary}`,
    ];
    for (const f of findings) {
      lines.push(`  ${f.severity.toUpperCase().padEnd(8)} ${f.kind.padEnd(28)} ${f.location}`);
      lines.push(`  ${''.padEnd(8)} ${f.message}${f.fingerprint ? ` [${f.fingerprint}]` : ''}`);
    }
    if (r.baselineRecorded) lines.push(`Baseline recorded: drift is now measured against the settings of ${r.baselineAcceptedAt}.`);
    else if (!r.baselineAcceptedAt) lines.push('No settings baseline yet: review the settings, then run `overskill security audit --accept`.');
    return { text: lines.join('\n'), code };
  },
};

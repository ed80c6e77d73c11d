import { Inject, Injectable } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { backupV1 } from '@overskill/contracts';
import { findSecrets, LOGGER } from '@overskill/observability';
import { createHash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { noProgress, type Progress } from '../progress/progress';
import { RepositoryBundleRepository } from '../repositories/repository-bundle.repository';
import { secretsInPatches } from './commit-patches';
import { NpmAuditRepository } from './npm-audit.repository';
import { PlatformRecordsRepository } from './platform-records.repository';
import { SecurityBaselineRepository } from './security-baseline.repository';
import { SecurityEventsRepository } from './security-events.repository';
import { SecurityFilesRepository } from './security-files.repository';
import { SecurityMetrics } from './security-metrics';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export interface SecurityFinding {
  severity: Severity;
  kind: string;
  location: string;
  message: string;
  fingerprint: string;
}
export interface AuditOptions {
  trigger: 'schedule' | 'manual';
  acceptBaseline: boolean;
  progress?: Progress;
}
export type SecurityAuditReport = MessageInitShape<typeof backupV1.SecurityAuditResponseSchema> & { findings: SecurityFinding[] };

const SECRET_NAMES: Record<string, string> = {
  anthropic_key: 'an Anthropic API key',
  provider_key: 'a model provider key (sk-…)',
  github_token: 'a GitHub token',
  platform_api_key: 'an overskill API key',
  aws_access_key: 'an AWS access key',
};
const NPM_SEVERITY: Record<string, Severity> = { critical: 'critical', high: 'high', moderate: 'medium', low: 'low', info: 'info' };
// Settings in an env file that guard something: limits, origins, TLS, keys and who may do what.
const SECURITY_SETTING =
  /CORS|RATE|TRUST_PROXY|TRUSTED_PROXIES|ALLOW|TLS|KEY|SECRET|TOKEN|PASSWORD|SEED|AUTH|OPERATOR|RECIPIENT|IDENTITY|ORIGIN|SANDBOX|WEBHOOK|SCOPE|LIMIT|CSRF|SESSION|PRIVATE/;
// Of those, the ones whose value is itself a secret: compared by fingerprint, never shown.
const SECRET_SETTING = /KEY|SECRET|TOKEN|PASSWORD|SEED|PRIVATE|CREDENTIAL/;
const ENV_LINE = /^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$/;

// The platform's security audit: dependencies, file permissions, exposed credentials and drift
// of security settings from the accepted baseline. One audit at a time per replica; the schedule
// claims each slot once across replicas.
@Injectable()
export class SecurityAuditService {
  private running: Promise<SecurityAuditReport> | undefined;

  constructor(
    @Inject(BACKUP_ENV) private readonly env: BackupEnv,
    private readonly files: SecurityFilesRepository,
    private readonly npm: NpmAuditRepository,
    private readonly baseline: SecurityBaselineRepository,
    private readonly events: SecurityEventsRepository,
    private readonly metrics: SecurityMetrics,
    private readonly repos: RepositoryBundleRepository,
    private readonly records: PlatformRecordsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // A request while an audit runs shares that audit's result rather than starting another scan
  // (an accepted baseline is still recorded from the settings as they are then).
  async audit(opts: AuditOptions): Promise<SecurityAuditReport> {
    if (this.running) {
      const report = await this.running;
      if (!opts.acceptBaseline) return report;
      const acceptedAt = await this.baseline.accept(await this.settingsSnapshot());
      return { ...report, baselineAcceptedAt: acceptedAt.toISOString(), baselineRecorded: true };
    }
    const run = this.run(opts);
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }

  private async run(opts: AuditOptions): Promise<SecurityAuditReport> {
    const startedAt = new Date();
    const auditId = randomUUID();
    const [dependencies, permissions, secrets, events, keys, settings, baseline] = await Promise.all([
      this.dependencies(),
      this.permissions(),
      this.secrets(opts.progress ?? noProgress),
      this.eventSecrets(),
      this.apiKeys(startedAt),
      this.settingsSnapshot(),
      this.baseline.get(),
    ]);
    const drift = baseline ? driftFindings(baseline.settings, settings, baseline.acceptedAt) : [];
    const findings = dedupe([...dependencies, ...permissions, ...secrets.findings, ...events, ...keys, ...drift]);
    const acceptedAt = opts.acceptBaseline ? await this.baseline.accept(settings) : baseline?.acceptedAt;
    const finishedAt = new Date();
    this.metrics.record(findings, finishedAt);
    await this.events
      .publish({ eventId: auditId, occurredAt: finishedAt.toISOString(), auditId, trigger: opts.trigger, findings })
      .catch((err: Error) => this.logger.warn({ err: err.message, auditId }, 'security audit event not published'));
    const counts = countBySeverity(findings);
    this.logger[findings.some((f) => f.severity === 'critical' || f.severity === 'high') ? 'warn' : 'info'](
      { auditId, trigger: opts.trigger, findings: findings.length, ...counts, duration: finishedAt.getTime() - startedAt.getTime() },
      'security audit finished',
    );
    return {
      auditId,
      startedAt: startedAt.toISOString(),
      durationMs: BigInt(finishedAt.getTime() - startedAt.getTime()),
      findings,
      checks: ['dependencies', 'permissions', 'secrets', 'events', 'keys', 'drift'],
      baselineAcceptedAt: acceptedAt?.toISOString() ?? '',
      baselineRecorded: opts.acceptBaseline,
      filesScanned: secrets.filesScanned,
      commitsScanned: secrets.commitsScanned,
    };
  }

  private async dependencies(): Promise<SecurityFinding[]> {
    const registry = this.env.SECURITY_AUDIT_NPM_REGISTRY;
    const outcome = await this.npm.audit(this.env.SECURITY_AUDIT_NPM_DIR ?? process.cwd(), registry, this.env.SECURITY_AUDIT_NPM_TIMEOUT_MS);
    if (!outcome.report) {
      return [
        {
          severity: 'info',
          kind: 'dependency_audit_unavailable',
          location: registry ?? 'npm registry',
          message: `dependencies not audited: ${outcome.unavailable}`,
          fingerprint: '',
        },
      ];
    }
    return Object.entries(outcome.report.vulnerabilities).map(([name, v]) => {
      const advisories = (v.via ?? []).filter((via): via is { title?: string; range?: string } => typeof via === 'object' && via !== null);
      const titles = advisories.flatMap((a) => (a.title ? [a.title] : []));
      const cause =
        titles.length > 0 ? titles.slice(0, 2).join('; ') : `through ${(v.via ?? []).filter((x) => typeof x === 'string').join(', ') || 'a dependency'}`;
      const fix = v.fixAvailable ? 'a fix is available (npm audit fix)' : 'no fix available yet';
      return {
        severity: NPM_SEVERITY[v.severity] ?? 'medium',
        kind: 'dependency_vulnerability',
        location: `${name}@${advisories[0]?.range ?? v.range ?? '*'}`,
        message: `${cause}; ${fix}`,
        fingerprint: '',
      };
    });
  }

  // Facts analytics stored that hold a credential (it owns them; we get fingerprints only).
  private async eventSecrets(): Promise<SecurityFinding[]> {
    try {
      const r = await this.records.eventSecrets();
      const findings: SecurityFinding[] = r.secrets.map((s) => ({
        severity: 'high',
        kind: 'exposed_secret',
        location: `event:${s.eventId} (${s.type}, ${s.occurredAt})`,
        message: `${SECRET_NAMES[s.kind] ?? 'a credential'} in a stored event (analytics); rotate it`,
        fingerprint: s.fingerprint,
      }));
      if (r.truncated)
        findings.push({
          severity: 'info',
          kind: 'check_unavailable',
          location: 'analytics',
          message: 'more stored events match than one audit lists; only the newest are shown',
          fingerprint: '',
        });
      return findings;
    } catch (err) {
      return [unchecked('analytics', 'stored events not scanned', err)];
    }
  }

  // API keys past their expiry that were never revoked, and keys nobody used for N days.
  private async apiKeys(now: Date): Promise<SecurityFinding[]> {
    let keys;
    try {
      keys = await this.records.apiKeys();
    } catch (err) {
      return [unchecked('gateway', 'API keys not checked', err)];
    }
    const days = this.env.SECURITY_AUDIT_KEY_UNUSED_DAYS;
    const cutoff = now.getTime() - days * 86_400_000;
    const findings: SecurityFinding[] = [];
    for (const k of keys) {
      const location = `key:${k.keyId} (${k.prefix}, team ${k.teamSlug}${k.name ? `, "${k.name}"` : ''})`;
      if (k.expiresAt && new Date(k.expiresAt).getTime() <= now.getTime()) {
        findings.push({
          severity: 'low',
          kind: 'key_expired',
          location,
          message: `past its expiry (${k.expiresAt}) but not revoked; revoke it: overskill keys revoke ${k.keyId}`,
          fingerprint: '',
        });
        continue;
      }
      const lastUsed = new Date(k.lastUsedAt || k.createdAt).getTime();
      if (lastUsed < cutoff) {
        const since = k.lastUsedAt ? `last used ${k.lastUsedAt}` : `never used since it was created ${k.createdAt}`;
        findings.push({
          severity: 'medium',
          kind: 'key_unused',
          location,
          message: `${since} (over ${days} days); revoke it if nobody needs it`,
          fingerprint: '',
        });
      }
    }
    return findings;
  }

  private keyFiles(): string[] {
    const env = this.env;
    return unique([env.BACKUP_AGE_IDENTITY_FILE, env.NATS_NKEY_SEED_FILE, env.NATS_TLS_KEY_FILE, ...env.SECURITY_AUDIT_KEY_FILES]);
  }

  private dataDirs(): { path: string; archives: boolean }[] {
    const env = this.env;
    const archives = unique([env.BACKUP_DIR, env.BACKUP_COPY_DIR, env.BACKUP_WAL_DIR ?? join(env.BACKUP_DIR, 'wal'), env.BACKUP_WAL_COPY_DIR]).map((path) => ({
      path,
      archives: true,
    }));
    const others = unique([env.WORKSPACES_DIR, ...env.SECURITY_AUDIT_DATA_DIRS, ...this.keyFiles().map((k) => dirname(k))]).map((path) => ({
      path,
      archives: false,
    }));
    return [...archives, ...others];
  }

  private async permissions(): Promise<SecurityFinding[]> {
    const findings: SecurityFinding[] = [];
    const add = (severity: Severity, location: string, message: string) =>
      findings.push({ severity, kind: 'file_permissions', location, message, fingerprint: '' });
    for (const key of this.keyFiles()) {
      const m = await this.files.mode(key);
      if (!m) add('medium', key, 'a configured key file is missing');
      else if (m.mode & 0o004) add('high', key, `key file is world-readable (mode ${octal(m.mode)}); chmod 600`);
      else if (m.mode & 0o022) add('high', key, `key file is writable by others (mode ${octal(m.mode)}); chmod 600`);
      else if (m.mode & 0o040) add('medium', key, `key file is group-readable (mode ${octal(m.mode)}); chmod 600`);
    }
    for (const { path, archives } of this.dataDirs()) {
      const m = await this.files.mode(path);
      if (!m) continue;
      if (m.mode & 0o002) add('high', path, `data folder is world-writable (mode ${octal(m.mode)}); anyone on the host can change what it holds`);
      else if (archives && m.mode & 0o004) add('medium', path, `backup folder is world-readable (mode ${octal(m.mode)}); chmod 700`);
    }
    return findings;
  }

  private async secrets(progress: Progress): Promise<{ findings: SecurityFinding[]; filesScanned: number; commitsScanned: number }> {
    const findings: SecurityFinding[] = [];
    const max = this.env.SECURITY_AUDIT_MAX_FILE_BYTES;
    const exposed = (severity: Severity, kind: string, location: string, where: string, fingerprint: string) =>
      findings.push({
        severity,
        kind: 'exposed_secret',
        location,
        message: `${SECRET_NAMES[kind] ?? 'a credential'} ${where}; rotate it and remove it`,
        fingerprint,
      });
    let filesScanned = 0;
    let commitsScanned = 0;
    const workspaces = this.env.WORKSPACES_DIR;
    for await (const file of this.files.textFiles(workspaces, max)) {
      progress('workspace files', ++filesScanned, 0, 'files');
      for (const s of findSecrets(file.text))
        exposed('critical', s.kind, `${file.path}:${s.line}`, 'in a workspace file (the preview serves it)', s.fingerprint);
    }
    const apps = await this.repos.listApps();
    for (const [i, app] of apps.entries()) {
      progress('commit history', i, apps.length, 'repositories');
      const patches = await this.files.commitPatches(this.repos.repoDir(app)).catch((err: Error) => {
        this.logger.warn({ err: err.message, appId: app }, 'security audit could not read a repository history');
        return '';
      });
      const { secrets, commits } = secretsInPatches(patches);
      commitsScanned += commits;
      if (i === apps.length - 1) progress('commit history', apps.length, apps.length, 'repositories');
      for (const s of secrets)
        exposed('high', s.kind, `${app}@${s.commit.slice(0, 12)}:${s.path}:${s.line}`, 'in commit history (still in every clone and bundle)', s.fingerprint);
    }
    for (const dir of this.env.SECURITY_AUDIT_LOG_DIRS) {
      for await (const file of this.files.textFiles(dir, max * 64)) {
        filesScanned++;
        for (const s of findSecrets(file.text)) exposed('high', s.kind, `${join(dir, file.path)}:${s.line}`, 'in a log file', s.fingerprint);
      }
    }
    return { findings, filesScanned, commitsScanned };
  }

  // The security settings as they are now: env-file settings that guard something, other
  // settings files by content hash, and the modes of key files and data folders.
  async settingsSnapshot(): Promise<Record<string, string>> {
    const env = this.env;
    const snapshot: Record<string, string> = {};
    const settingsFiles = env.SECURITY_AUDIT_SETTINGS_FILES.length > 0 ? env.SECURITY_AUDIT_SETTINGS_FILES : env.BACKUP_CONFIG_PATHS;
    for (const file of settingsFiles) {
      if (await this.files.isDirectory(file)) continue;
      const text = await this.files.readTextFile(file, env.SECURITY_AUDIT_MAX_FILE_BYTES);
      if (text === undefined) {
        snapshot[`file:${file}`] = 'missing';
        continue;
      }
      const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
      if (lines.length > 0 && lines.every((l) => ENV_LINE.test(l))) {
        for (const l of lines) {
          const [, key = '', raw = ''] = ENV_LINE.exec(l) ?? [];
          if (!SECURITY_SETTING.test(key)) continue;
          const value = raw.trim().replace(/^(['"])(.*)\1$/, '$2');
          snapshot[`${file}:${key}`] = SECRET_SETTING.test(key) && value ? `sha256:${sha12(value)}` : value;
        }
      } else {
        snapshot[`file:${file}`] = `sha256:${sha12(text)}`;
      }
    }
    for (const path of [...this.keyFiles(), ...this.dataDirs().map((d) => d.path)]) {
      const m = await this.files.mode(path);
      snapshot[`mode:${path}`] = m ? octal(m.mode) : 'missing';
    }
    return snapshot;
  }
}

function driftFindings(before: Record<string, string>, now: Record<string, string>, acceptedAt: Date): SecurityFinding[] {
  const since = `since the baseline accepted ${acceptedAt.toISOString()}`;
  const findings: SecurityFinding[] = [];
  for (const name of unique([...Object.keys(before), ...Object.keys(now)]).sort()) {
    const [was, is] = [before[name], now[name]];
    if (was === is) continue;
    const message =
      was === undefined
        ? `added ${since}: ${JSON.stringify(is)}`
        : is === undefined
          ? `removed ${since} (was ${JSON.stringify(was)})`
          : `changed ${since}: ${JSON.stringify(was)} → ${JSON.stringify(is)}`;
    findings.push({ severity: 'medium', kind: 'config_drift', location: name, message, fingerprint: '' });
  }
  return findings;
}

function unchecked(service: string, what: string, err: unknown): SecurityFinding {
  const reason = (err as { code?: string }).code ?? (err as Error).message;
  return { severity: 'info', kind: 'check_unavailable', location: service, message: `${what}: ${service} did not answer (${reason})`, fingerprint: '' };
}

function dedupe(findings: SecurityFinding[]): SecurityFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.kind}\0${f.location}\0${f.fingerprint}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function countBySeverity(findings: SecurityFinding[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return counts;
}

const unique = (values: (string | undefined)[]): string[] => [...new Set(values.filter((v): v is string => Boolean(v)))];
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;
const sha12 = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);

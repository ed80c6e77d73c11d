import { Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';

export interface NpmAuditOutcome {
  // npm audit's JSON report, or why there is none.
  report?: NpmAuditReport;
  unavailable?: string;
}

export interface NpmAuditReport {
  vulnerabilities: Record<string, { severity: string; range?: string; via?: unknown[]; fixAvailable?: unknown }>;
}

// Runs `npm audit --json` in a project folder against a registry; npm exits 1 when it finds
// something, so the JSON, not the exit code, says what happened.
@Injectable()
export class NpmAuditRepository {
  audit(projectDir: string, registry: string | undefined, timeoutMs: number): Promise<NpmAuditOutcome> {
    // --prefix: a service started through npm inherits npm_config_local_prefix, which would audit that project instead.
    const args = ['audit', '--json', `--prefix=${projectDir}`, '--fetch-retries=1', '--fetch-retry-mintimeout=1000', '--fetch-retry-maxtimeout=2000'];
    if (registry) args.push(`--registry=${registry}`);
    return new Promise((resolve) => {
      const child = spawn('npm', args, {
        cwd: projectDir,
        env: { ...process.env, npm_config_update_notifier: 'false', npm_config_audit: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.resume();
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ unavailable: `npm could not be started (${err.message})` });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (signal) return resolve({ unavailable: `npm audit did not finish within ${Math.round(timeoutMs / 1000)} s` });
        resolve(parseNpmAudit(Buffer.concat(out).toString('utf8'), code, registry));
      });
    });
  }
}

export function parseNpmAudit(stdout: string, code: number | null, registry: string | undefined): NpmAuditOutcome {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    return { unavailable: `npm audit gave no report (exit ${code ?? 'unknown'})` };
  }
  const error = json.error as { code?: string; summary?: string } | undefined;
  if (error) {
    const where = registry ? `the registry ${registry}` : "npm's registry";
    const detail = (typeof json.message === 'string' && json.message) || error.summary || '';
    const reason = [error.code, detail.split('\n')[0]].filter(Boolean).join(': ') || 'no reason given';
    if (error.code === 'ENOLOCK') return { unavailable: `no package-lock.json to audit (${reason})` };
    return { unavailable: `${where} could not be reached or refused the audit (${reason})` };
  }
  return { report: { vulnerabilities: (json.vulnerabilities as NpmAuditReport['vulnerabilities']) ?? {} } };
}

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { StackNatsSeeds } from '@overskill/testing';
import { REPO_ROOT } from './integration-env';

// Where the CLI connects, and the seeds it takes its own (cli) identity from.
export interface CliBus {
  natsUrl: string;
  natsSeeds: StackNatsSeeds;
}

// Runs the real operator CLI the way `npx overskill` does: its bin script, which runs dist/.
export function runCli(args: string[], bus: CliBus, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'tools/cli/bin/overskill.js'), ...args], {
    env: { ...process.env, NATS_URL: bus.natsUrl, NATS_NKEY_SEED: bus.natsSeeds.cli, NATS_NKEY_SEED_FILE: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// The same without blocking the test's event loop: for a CLI command that reaches fakes served
// by the test process itself.
export function runCliAsync(args: string[], bus: CliBus, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'tools/cli/bin/overskill.js'), ...args], {
      env: { ...process.env, NATS_URL: bus.natsUrl, NATS_NKEY_SEED: bus.natsSeeds.cli, NATS_NKEY_SEED_FILE: '', ...env },
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function createTeamKey(bus: CliBus, team: string, role = 'owner'): { key: string; teamId: string } {
  const result = runCli(['keys', 'create', '--team', team, '--role', role, '--name', `e2e-${role}`, '--json'], bus);
  if (result.status !== 0) throw new Error(`keys create failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { key: string; teamId: string };
}

export function createApiKey(bus: CliBus, team: string, role = 'owner'): string {
  return createTeamKey(bus, team, role).key;
}

import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { StackNatsSeeds } from '@overskill/testing';
import { REPO_ROOT } from './integration-env';

// Where the CLI connects, and the seeds it takes its own (cli) identity from.
export interface CliBus {
  natsUrl: string;
  natsSeeds: StackNatsSeeds;
}

// Runs the real operator CLI (dist/) the way an operator would.
export function runCli(args: string[], bus: CliBus): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/tools/cli/src/main.js'), ...args], {
    env: { ...process.env, NATS_URL: bus.natsUrl, NATS_NKEY_SEED: bus.natsSeeds.cli, NATS_NKEY_SEED_FILE: '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function createTeamKey(bus: CliBus, team: string, role = 'owner'): { key: string; teamId: string } {
  const result = runCli(['keys', 'create', '--team', team, '--role', role, '--name', `e2e-${role}`, '--json'], bus);
  if (result.status !== 0) throw new Error(`keys create failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { key: string; teamId: string };
}

export function createApiKey(bus: CliBus, team: string, role = 'owner'): string {
  return createTeamKey(bus, team, role).key;
}

// The same, without blocking the test's event loop: for a CLI call that reaches a fake served by this process.
export function runCliAsync(args: string[], bus: CliBus): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'dist/tools/cli/src/main.js'), ...args],
      { env: { ...process.env, NATS_URL: bus.natsUrl, NATS_NKEY_SEED: bus.natsSeeds.cli, NATS_NKEY_SEED_FILE: '' }, encoding: 'utf8', timeout: 30_000 },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

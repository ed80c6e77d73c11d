import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './integration-env';

// Runs the real operator CLI (dist/) the way an operator would.
export function runCli(args: string[], natsUrl: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/tools/cli/src/main.js'), ...args], {
    env: { ...process.env, NATS_URL: natsUrl },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function createTeamKey(natsUrl: string, team: string, role = 'owner'): { key: string; teamId: string } {
  const result = runCli(['keys', 'create', '--team', team, '--role', role, '--name', `e2e-${role}`, '--json'], natsUrl);
  if (result.status !== 0) throw new Error(`keys create failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { key: string; teamId: string };
}

export function createApiKey(natsUrl: string, team: string, role = 'owner'): string {
  return createTeamKey(natsUrl, team, role).key;
}

import { SERVICE_NAMES } from '@overskill/contracts';
import { serviceEntry } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../support/integration-env';

// A missing or bad variable stops a service at start, names the variable, and shows no stack.
describe('service configuration', () => {
  const run = (service: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [serviceEntry(REPO_ROOT, service as never)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it.each(['gateway', 'orchestrator', 'analytics', 'backup'])('%s refuses to start without DATABASE_URL', (service) => {
    const result = run(service, { WORKSPACES_DIR: '/tmp', BACKUP_DIR: '/tmp' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names every bad variable at once', () => {
    const result = run('gateway', { DATABASE_URL: 'mysql://nope', PORT: 'abc', NATS_URL: 'http://x' });
    expect(result.status).toBe(1);
    for (const name of ['DATABASE_URL', 'PORT', 'NATS_URL']) expect(result.stderr).toContain(name);
  });

  it('tool-runner and git-service need WORKSPACES_DIR', () => {
    for (const service of ['tool-runner', 'git-service']) {
      const result = run(service, {});
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('WORKSPACES_DIR');
    }
  });

  it('knows every service', () => {
    expect(SERVICE_NAMES).toHaveLength(7);
  });
});

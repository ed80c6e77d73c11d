import { launchPlatform, runAllMigrations, type RunningPlatform } from '@overskill/testing';
import { SERVICE_NAMES } from '@overskill/contracts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Names prom-client's default metrics use; promtool's opinions about them are prom-client's to fix.
const DEFAULT_METRIC = /^(process_|nodejs_)/;

// Every service's real /metrics through `promtool check metrics`: names, units, help texts and
// types as Prometheus recommends, for every series the platform exports itself.
describe('metrics: promtool check metrics', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'metrics-lint');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      env: { LOG_LEVEL: 'warn', BACKUP_SCHEDULE_FULL: 'off', BACKUP_SCHEDULE_DATABASE: 'off', BACKUP_SCHEDULE_DRILL: 'off', SECURITY_AUDIT_SCHEDULE: 'off' },
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it.each([...SERVICE_NAMES])('%s: nothing beyond prom-client default metrics', async (service) => {
    const text = await (await fetch(`${platform.urls[service]}/metrics`)).text();
    expect(text).toContain('overskill_dependency_up');
    // Every metric the service registers has its HELP and TYPE lines from the start, used or not.
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    const problems = `${result.stdout}${result.stderr}`
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .filter((line) => !DEFAULT_METRIC.test(line));
    expect(problems).toEqual([]);
  });
});

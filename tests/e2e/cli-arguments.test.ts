import { Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { freePort, launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Every command parses its arguments strictly: a value given to a switch or a misspelt option is
// refused before anything runs, where a loose parser would have run a real cleanup.
describe('operator CLI: strict arguments', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let workspaces: string;
  let nc: NatsConnection;
  let orphan: string;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'cli-arguments');
    workspaces = join(dir, 'workspaces');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'git-service'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'cli-arguments-test', stackNatsCredentials(stack));
    // A repository without an app, untouched for 30 days: a real cleanup removes it.
    orphan = randomUUID();
    await new NatsRpcClient(nc, createServiceMetrics('cli-arguments-test'), 10_000).send(Rpc.gitRepoInit, { appId: orphan });
    const old = new Date(Date.now() - 30 * 86_400_000);
    const age = (p: string) => {
      for (const entry of readdirSync(p, { withFileTypes: true })) {
        if (entry.isDirectory()) age(join(p, entry.name));
        utimesSync(join(p, entry.name), old, old);
      }
      utimesSync(p, old, old);
    };
    age(join(workspaces, orphan));
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('refuses `git cleanup --dry-run=true` and the typo `--dryrun` with exit 2, and removes nothing', () => {
    const valued = runCli(['git', 'cleanup', '--dry-run=true'], stack);
    expect([valued.status, valued.stdout]).toEqual([2, '']);
    expect(valued.stderr).toBe("overskill: git cleanup: Option '--dry-run' does not take an argument; see `npx overskill git cleanup --help`\n");
    const typo = runCli(['git', 'cleanup', '--dryrun'], stack);
    expect([typo.status, typo.stdout]).toEqual([2, '']);
    expect(typo.stderr).toBe("overskill: git cleanup: Unknown option '--dryrun' (did you mean --dry-run?); see `npx overskill git cleanup --help`\n");
    expect(existsSync(join(workspaces, orphan))).toBe(true);

    // The same repository is one a real cleanup would remove: the refusals are what kept it.
    const dry = runCli(['git', 'cleanup', '--dry-run', '--json'], stack);
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout).orphans).toEqual([expect.objectContaining({ directory: orphan, action: 'would_remove' })]);
    expect(existsSync(join(workspaces, orphan))).toBe(true);
  });

  it('refuses an unknown command, a missing required option and an extra argument, changing nothing', () => {
    expect(runCli(['frobnicate', '--json'], stack)).toMatchObject({
      status: 2,
      stderr: 'overskill: unknown command "frobnicate"; see `npx overskill --help`\n',
    });
    expect(runCli(['keys', 'destroy'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('"keys" takes create, list, rotate, revoke') });

    const team = `cli-args-${randomUUID().slice(0, 8)}`;
    const missing = runCli(['keys', 'create', '--team', team], stack);
    expect([missing.status, missing.stderr]).toEqual([2, 'overskill: keys create: missing required option --role; see `npx overskill keys create --help`\n']);
    // The team would have been created with the key: it was not.
    expect(runCli(['keys', 'list', '--team', team], stack)).toMatchObject({ status: 1, stderr: expect.stringMatching(/^overskill: [A-Z_]+: /) });

    const extra = runCli(['git', 'cleanup', 'now'], stack);
    expect([extra.status, extra.stderr]).toEqual([
      2,
      'overskill: git cleanup: takes 0 arguments after the command, got 1 (unexpected "now"); see `npx overskill git cleanup --help`\n',
    ]);
    expect(runCli(['keys', 'revoke', 'k1', 'k2'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('unexpected "k2"') });
    expect(runCli(['ai', 'usage', '--team'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining("Option '--team <value>' argument missing") });
    expect(existsSync(join(workspaces, orphan))).toBe(true);
  });

  it('prints help from the command registry, without the platform', () => {
    const offline = { NATS_URL: 'nats://127.0.0.1:9' };
    const all = runCli(['--help'], stack, offline);
    expect(all.status).toBe(0);
    for (const line of ['git cleanup [--dry-run]', 'keys create --team <slug>', 'backup restore --file', 'tasks retry <taskId>', 'github rate-limit'])
      expect(all.stdout).toContain(line);
    expect(runCli(['keys', 'create', '--help'], stack, offline)).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^ {2}keys create --team <slug> --role <role>/),
    });
    expect(runCli(['keys', '--help'], stack, offline)).toMatchObject({ status: 0, stdout: expect.stringContaining('keys revoke <keyId>') });
    expect(runCli([], stack, offline)).toMatchObject({ status: 2, stdout: expect.stringContaining('Usage: npx overskill <command>') });
  });

  it('says the platform cannot be reached, with exit 1, when NATS is down', async () => {
    const port = await freePort();
    const down = runCli(['git', 'cleanup', '--dry-run'], stack, { NATS_URL: `nats://127.0.0.1:${port}` });
    expect([down.status, down.stdout]).toEqual([1, '']);
    expect(down.stderr).toBe(`overskill: cannot reach NATS at nats://127.0.0.1:${port}; is the platform running? (set NATS_URL to point elsewhere)\n`);
  });
});

import { fromBinary } from '@bufbuild/protobuf';
import { backupV1, Events, Rpc } from '@overskill/contracts';
import { connectNats, ensureStreams, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, NpmAuditRegistryFake, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { startBackupFixture, type BackupFixture } from '../support/backup-fixture';
import { createTeamKey, runCli, runCliAsync } from '../support/cli';
import { integrationStack, REPO_ROOT } from '../support/integration-env';

interface Finding {
  severity: string;
  kind: string;
  location: string;
  message: string;
  fingerprint: string | null;
}

const fingerprint = (prefix: string, secret: string) => `${prefix}…#${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;

// `overskill security audit` against the backup service, which sees the workspace volume, the
// key files and the logs: planted credentials are found and masked, loose permissions and
// settings drift are reported, a clean platform reports nothing but the dependency audit's reach.
describe('security audit', () => {
  const stack = integrationStack();
  let fx: BackupFixture;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  // The gateway (API keys) and analytics (stored facts) the audit asks, on the fixture's database.
  let others: RunningPlatform;
  let settingsFile: string;
  let logDir: string;
  let npmProject: string;
  const apps = { tree: randomUUID(), history: randomUUID() };
  const audit = (...args: string[]) => {
    const r = runCli(['security', 'audit', '--json', ...args], stack);
    if (r.status !== 0 && r.status !== 1) throw new Error(`security audit exited ${r.status}: ${r.stderr}`);
    return {
      status: r.status,
      report: JSON.parse(r.stdout) as {
        auditId: string;
        findings: Finding[];
        baselineAcceptedAt: string | null;
        baselineRecorded: boolean;
        checks: string[];
        filesScanned: number;
        commitsScanned: number;
      },
      stdout: r.stdout,
      stderr: r.stderr,
    };
  };
  const above = (findings: Finding[], severity = 'info') => findings.filter((f) => f.severity !== severity);

  beforeAll(async () => {
    const pre = join(stack.dataDir, `security-${randomUUID().slice(0, 8)}`);
    settingsFile = join(pre, 'gateway.env');
    logDir = join(pre, 'logs');
    npmProject = join(pre, 'project');
    mkdirSync(logDir, { recursive: true });
    mkdirSync(npmProject, { recursive: true });
    writeFileSync(settingsFile, '# the gateway\nGATEWAY_CORS_ORIGINS=https://console.example\nGITHUB_WEBHOOK_SECRET=first-secret\nLOG_LEVEL=info\n');
    writeFileSync(join(logDir, 'gateway.log'), '{"level":"info","msg":"started"}\n');
    // The project npm audit checks: one dependency, and an .npmrc naming the registry to ask.
    writeFileSync(join(npmProject, 'package.json'), JSON.stringify({ name: 'audited', version: '1.0.0', dependencies: { 'left-pad': '1.0.0' } }));
    const lock = {
      name: 'audited',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'audited', version: '1.0.0', dependencies: { 'left-pad': '1.0.0' } }, 'node_modules/left-pad': { version: '1.0.0' } },
    };
    writeFileSync(join(npmProject, 'package-lock.json'), JSON.stringify(lock));
    // Nothing listens on the discard port: the registry is unreachable, as on an offline host.
    writeFileSync(join(npmProject, '.npmrc'), 'registry=http://127.0.0.1:9/\n');
    fx = await startBackupFixture(stack, 'security-audit', {
      env: {
        BACKUP_SCHEDULE_BASE: 'off',
        SECURITY_AUDIT_SCHEDULE: 'off',
        // Unset: the project's .npmrc names the registry (an unreachable one, then the fake).
        SECURITY_AUDIT_NPM_REGISTRY: '',
        SECURITY_AUDIT_NPM_DIR: npmProject,
        SECURITY_AUDIT_SETTINGS_FILES: settingsFile,
        SECURITY_AUDIT_LOG_DIRS: logDir,
      },
    });
    for (const app of Object.values(apps)) fx.makeRepo(app);
    // What an operator is told to do: data folders private to the service.
    for (const dir of [fx.workspaces, fx.backupDir, fx.copyDir]) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o700);
    }
    others = await launchPlatform({
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: fx.databaseUrl,
      redisUrl: fx.redisUrl,
      workspacesDir: fx.workspaces,
      backupDir: fx.backupDir,
      logDir: join(fx.dir, 'logs'),
      services: ['gateway', 'analytics'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'security-audit-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('security-audit-test'), 10_000);
    // The EVENTS stream the findings are published to (made by the services that manage streams).
    await ensureStreams(nc);
  }, 120_000);

  afterAll(async () => {
    await others?.stop();
    await nc?.close();
    await fx?.stop();
  });

  it('reports nothing on a clean platform but says plainly that the registry could not be reached, and records a baseline', () => {
    const first = audit('--accept');
    expect(first.status).toBe(0);
    expect(first.report.checks).toEqual(['dependencies', 'permissions', 'secrets', 'events', 'keys', 'drift']);
    expect(first.report.baselineRecorded).toBe(true);
    expect(first.report.commitsScanned).toBe(4);
    expect(first.report.findings).toEqual([
      expect.objectContaining({
        severity: 'info',
        kind: 'dependency_audit_unavailable',
        message: expect.stringMatching(/could not be reached.*127\.0\.0\.1:9.*ECONNREFUSED/),
      }),
    ]);
    const again = audit();
    expect(again.status).toBe(0);
    expect(above(again.report.findings)).toEqual([]);
    expect(again.report.baselineAcceptedAt).toBe(first.report.baselineAcceptedAt);
  }, 60_000);

  it('finds keys planted in a workspace, in a commit and in a log, and shows only a fingerprint', async () => {
    const anthropic = `sk-ant-api03-${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '')}`;
    const github = `ghp_${randomUUID().replace(/-/g, '')}abcd`;
    const openai = `sk-proj-${randomUUID().replace(/-/g, '')}`;
    writeFileSync(join(fx.workspaces, apps.tree, '.env'), `PORT=3000\nANTHROPIC_API_KEY=${anthropic}\n`);
    const repo = join(fx.workspaces, apps.history);
    writeFileSync(join(repo, 'config.js'), `export const api = 'https://api.github.com';\nexport const token = '${github}';\n`);
    fx.git(repo, 'add', 'config.js');
    fx.git(repo, 'commit', '-q', '-m', 'add config');
    const commit = fx.git(repo, 'rev-parse', 'HEAD');
    // Removed again: only the history holds it now.
    fx.git(repo, 'rm', '-q', 'config.js');
    fx.git(repo, 'commit', '-q', '-m', 'remove config');
    writeFileSync(join(logDir, 'gateway.log'), `{"level":"info","msg":"started"}\n{"level":"warn","msg":"provider said no","key":"${openai}"}\n`);

    const { status, report, stdout } = audit();
    expect(status).toBe(1);
    const secrets = report.findings.filter((f) => f.kind === 'exposed_secret');
    expect(secrets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ severity: 'critical', location: `${apps.tree}/.env:2`, fingerprint: fingerprint('sk-ant-', anthropic) }),
        expect.objectContaining({ severity: 'high', location: `${apps.history}@${commit.slice(0, 12)}:config.js:2`, fingerprint: fingerprint('ghp_', github) }),
        expect.objectContaining({ severity: 'high', location: `${join(logDir, 'gateway.log')}:2`, fingerprint: fingerprint('sk-proj-', openai) }),
      ]),
    );
    expect(secrets).toHaveLength(3);
    // The audit is a fact on the EVENTS stream, with the same findings.
    const stored = await (await nc.jetstreamManager()).streams.getMessage('EVENTS', { last_by_subj: 'events.security.audited.v1' });
    const event = fromBinary(backupV1.SecurityAuditedSchema, stored.data);
    expect(event).toMatchObject({ auditId: report.auditId, trigger: 'manual' });
    expect(
      event.findings
        .filter((f) => f.kind === 'exposed_secret')
        .map((f) => f.fingerprint)
        .sort(),
    ).toEqual(secrets.map((f) => f.fingerprint).sort());
    // Never the secret: not on stdout, not in the published fact, not in the service's log.
    const published = Buffer.from(stored.data).toString('latin1');
    for (const secret of [anthropic, github, openai]) {
      expect(stdout).not.toContain(secret.slice(10));
      expect(published).not.toContain(secret.slice(10));
      expect(readFileSync(join(fx.dir, 'logs', 'backup.log'), 'utf8')).not.toContain(secret.slice(10));
    }

    // The newest audit's findings as metrics, for the alert and the dashboard.
    const metrics = await (await fetch(`${fx.platform.urls.backup}/metrics`)).text();
    expect(metrics).toMatch(/^security_findings\{severity="critical",kind="exposed_secret",service="backup"\} 1$/m);
    expect(metrics).toMatch(/^security_findings\{severity="high",kind="exposed_secret",service="backup"\} 2$/m);

    // Cleaned up: the file and the log line go; the history goes only with the repository.
    rmSync(join(fx.workspaces, apps.tree, '.env'));
    writeFileSync(join(logDir, 'gateway.log'), '{"level":"info","msg":"started"}\n');
    rmSync(repo, { recursive: true });
    expect(audit().report.findings.filter((f) => f.kind === 'exposed_secret')).toEqual([]);
  }, 60_000);

  it('finds a world-readable key file and reports settings that drifted from the baseline', () => {
    chmodSync(fx.onlineKey, 0o644);
    writeFileSync(settingsFile, '# the gateway\nGATEWAY_CORS_ORIGINS=https://evil.example\nGITHUB_WEBHOOK_SECRET=second-secret\nLOG_LEVEL=debug\n');
    const { status, report, stdout } = audit();
    expect(status).toBe(1);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          severity: 'high',
          kind: 'file_permissions',
          location: fx.onlineKey,
          message: expect.stringContaining('world-readable (mode 0644)'),
        }),
        expect.objectContaining({
          kind: 'config_drift',
          location: `${settingsFile}:GATEWAY_CORS_ORIGINS`,
          message: expect.stringContaining('"https://console.example" → "https://evil.example"'),
        }),
        expect.objectContaining({
          kind: 'config_drift',
          location: `${settingsFile}:GITHUB_WEBHOOK_SECRET`,
          message: expect.stringMatching(/"sha256:[0-9a-f]{12}" → "sha256:[0-9a-f]{12}"/),
        }),
        expect.objectContaining({ kind: 'config_drift', location: `mode:${fx.onlineKey}`, message: expect.stringContaining('"0600" → "0644"') }),
      ]),
    );
    // LOG_LEVEL guards nothing; a secret setting's value never appears.
    expect(report.findings.some((f) => f.location.endsWith(':LOG_LEVEL'))).toBe(false);
    expect(stdout).not.toContain('second-secret');
    // Put back: clean again against the same baseline.
    chmodSync(fx.onlineKey, 0o600);
    writeFileSync(settingsFile, '# the gateway\nGATEWAY_CORS_ORIGINS=https://console.example\nGITHUB_WEBHOOK_SECRET=first-secret\nLOG_LEVEL=info\n');
    expect(above(audit().report.findings)).toEqual([]);
  }, 60_000);

  it('finds a key in a stored event, API keys past expiry and keys nobody used', async () => {
    const { teamId } = createTeamKey(stack, 'sec-audit-team', 'admin');
    const listed = JSON.parse(runCli(['keys', 'list', '--team', 'sec-audit-team', '--json'], stack).stdout) as { keys: { keyId: string }[] };
    const unused = listed.keys[0]?.keyId ?? '';
    const expired = JSON.parse(runCli(['keys', 'create', '--team', 'sec-audit-team', '--role', 'viewer', '--name', 'old', '--json'], stack).stdout)
      .keyId as string;
    fx.psql(`UPDATE gateway.api_keys SET created_at = now() - interval '100 days' WHERE id = '${unused}'`);
    fx.psql(`UPDATE gateway.api_keys SET expires_at = now() - interval '1 day' WHERE id = '${expired}'`);
    // A fact that carried a token into the event store (an audited request's target, here).
    const token = `ghs_${randomUUID().replace(/-/g, '')}wxyz`;
    const eventId = randomUUID();
    await publishDurable(
      nc,
      Events.auditRecorded,
      {
        eventId,
        occurredAt: new Date().toISOString(),
        teamId,
        actor: '',
        keyPrefix: '',
        action: 'auth.failed',
        target: `GET /api/apps?token=${token}`,
        ip: '127.0.0.1',
        result: '401',
        status: 401,
        correlationId: 'c',
      },
      { msgId: eventId },
    );
    for (let i = 0; i < 100 && Number((await rpc.send(Rpc.analyticsEventCount, { type: Events.auditRecorded.subject })).count) < 1; i++)
      await new Promise((r) => setTimeout(r, 100));

    const { status, report, stdout } = audit();
    expect(status).toBe(1);
    expect(report.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          severity: 'high',
          kind: 'exposed_secret',
          location: expect.stringContaining(`event:${eventId} (events.audit.recorded.v1`),
          fingerprint: fingerprint('ghs_', token),
        }),
        expect.objectContaining({
          severity: 'medium',
          kind: 'key_unused',
          location: expect.stringContaining(`key:${unused}`),
          message: expect.stringContaining('never used'),
        }),
        expect.objectContaining({ severity: 'low', kind: 'key_expired', location: expect.stringContaining(`key:${expired}`) }),
      ]),
    );
    expect(stdout).not.toContain(token.slice(6));
    // Revoked keys are not reported.
    runCli(['keys', 'revoke', unused], stack);
    runCli(['keys', 'revoke', expired], stack);
    expect(audit().report.findings.filter((f) => f.kind.startsWith('key_'))).toEqual([]);
  }, 60_000);

  it('reports the vulnerable dependencies the registry names, with the advisory', async () => {
    const registry = new NpmAuditRegistryFake({
      'left-pad': [
        {
          id: 1_099_999,
          title: 'Prototype pollution in left-pad',
          severity: 'high',
          vulnerable_versions: '<1.4.0',
          url: 'https://github.com/advisories/GHSA-test',
        },
      ],
    });
    const url = await registry.start();
    try {
      writeFileSync(join(npmProject, '.npmrc'), `registry=${url}\n`);
      // Not runCli: the fake registry answers from this process, whose event loop must keep running.
      const { status, stdout } = await runCliAsync(['security', 'audit', '--json'], stack);
      expect(status).toBe(1);
      const report = JSON.parse(stdout) as { findings: Finding[] };
      expect(registry.bulkRequests).toEqual([{ 'left-pad': ['1.0.0'] }]);
      expect(report.findings.filter((f) => f.kind.startsWith('dependency'))).toEqual([
        expect.objectContaining({
          severity: 'high',
          kind: 'dependency_vulnerability',
          location: 'left-pad@<1.4.0',
          message: expect.stringContaining('Prototype pollution in left-pad'),
        }),
      ]);
    } finally {
      writeFileSync(join(npmProject, '.npmrc'), 'registry=http://127.0.0.1:9/\n');
      await registry.stop();
    }
  }, 60_000);

  it('refuses bad arguments, and says so when the platform is down', async () => {
    expect(runCli(['security', 'audit', '--acept'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining("Unknown option '--acept'") });
    expect(runCli(['security', 'audit', 'now'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('takes 0 arguments') });
    expect(runCli(['security', 'audit', '--accept=yes'], stack)).toMatchObject({ status: 2 });
    await fx.platform.stopService('backup');
    const down = runCli(['security', 'audit'], stack);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
  }, 60_000);
});

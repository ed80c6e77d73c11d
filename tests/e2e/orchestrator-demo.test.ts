import { orchestratorV1, Rpc } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { AnthropicFake, demoResponder, launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { simpleGit } from 'simple-git';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

jest.setTimeout(60_000);

// Demo mode (`npm start` without ANTHROPIC_API_KEY) end to end: the scripted model builds a
// small static web app through the real services, leaving several files and a few commits.
describe('demo mode: a chat message builds a working static web app', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake();
  let platform: RunningPlatform;
  let workspacesDir: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'orchestrator-demo');
    workspacesDir = join(dir, 'workspaces');
    const url = await anthropic.start();
    anthropic.respondWith(demoResponder);
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'ai-router', 'tool-runner', 'git-service'],
      env: { ANTHROPIC_API_KEY: 'demo', ANTHROPIC_BASE_URL: url, LOG_LEVEL: 'warn' },
    });
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('orchestrator-demo-test'));
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await anthropic.stop();
  });

  it('writes index.html, styles.css, app.js and README.md in three commits of one run', async () => {
    const teamId = randomUUID();
    const app = await rpc.send(Rpc.appCreate, { teamId, name: 'Demo', description: '', template: 'empty' });
    const { runId } = await rpc.send(Rpc.messagePost, { teamId, appId: app.id, content: 'A grocery list', authorId: '' });
    let run = await rpc.send(Rpc.runGet, { teamId, runId });
    for (let i = 0; i < 300 && [orchestratorV1.RunStatus.QUEUED, orchestratorV1.RunStatus.RUNNING].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await rpc.send(Rpc.runGet, { teamId, runId });
    }
    expect(run).toMatchObject({ status: orchestratorV1.RunStatus.COMPLETED, iterations: 3 });

    const repo = join(workspacesDir, app.id);
    const html = readFileSync(join(repo, 'index.html'), 'utf8');
    expect(html).toContain('<link rel="stylesheet" href="styles.css">');
    expect(html).toContain('<script src="app.js" defer></script>');
    expect(readFileSync(join(repo, 'styles.css'), 'utf8')).toContain('.app');
    expect(readFileSync(join(repo, 'app.js'), 'utf8')).toContain('localStorage');
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toContain('# A grocery list');

    const log = await simpleGit(repo).log();
    expect(log.all.map((c) => c.message)).toEqual(['Add a README with usage notes', 'Add A grocery list: page, styles and script', expect.any(String)]);
    expect(log.latest?.hash).toBe(run.commitSha);
    expect((await simpleGit(repo).status()).isClean()).toBe(true);
    const reply = (await rpc.send(Rpc.messageList, { teamId, appId: app.id, pageSize: 1, pageToken: '' })).messages[0];
    expect(reply).toMatchObject({ role: 'assistant', runId });
    expect(reply?.content).toContain('is ready');
  });
});

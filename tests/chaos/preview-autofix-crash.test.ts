import { orchestratorV1, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  DEMO_PREVIEW_FEEDBACK,
  demoResponder,
  launchPlatform,
  runAllMigrations,
  type RunningPlatform,
  stackNatsCredentials,
} from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// The orchestrator is killed right after a preview check handed errors back (the model is still
// thinking about them): the next replica replays the feedback turn from its checkpoint and the
// run ends fixed, checked and completed, with the feedback turn taken once.
describe('chaos: orchestrator killed during an autofix turn', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake();
  let deps: RunningPlatform;
  let orchestrator: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  let workspacesDir: string;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'preview-autofix-crash');
    workspacesDir = join(dir, 'workspaces');
    const url = await anthropic.start();
    // The fix turn takes 3 s: time to kill the replica while it waits.
    anthropic.respondWith((request) => {
      const turn = demoResponder(request);
      const messages = (request.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
      const last = messages.at(-1);
      const isFeedback = last?.role === 'user' && JSON.stringify(last.content).includes(DEMO_PREVIEW_FEEDBACK);
      return isFeedback ? { ...turn, delayMs: 3000 } : turn;
    });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const common = { root: REPO_ROOT, ...stack, workspacesDir, backupDir: join(dir, 'backups') };
    deps = await launchPlatform({
      ...common,
      logDir: join(dir, 'logs'),
      services: ['ai-router', 'tool-runner', 'git-service'],
      env: { ANTHROPIC_API_KEY: 'demo', ANTHROPIC_BASE_URL: url, LOG_LEVEL: 'warn' },
    });
    orchestrator = await launchPlatform({
      ...common,
      logDir: join(dir, 'logs-orchestrator'),
      services: ['orchestrator'],
      env: { LOG_LEVEL: 'warn', RUN_ACK_WAIT_MS: '3000', RUN_LEASE_MS: '2000' },
    });
    nc = await connectNats(stack.natsUrl, 'preview-autofix-crash', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('preview-autofix-crash'));
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await orchestrator?.stop();
    await deps?.stop();
    await anthropic.stop();
  });

  it('resumes from the feedback checkpoint and completes the fix', async () => {
    const teamId = randomUUID();
    const app = await rpc.send(Rpc.appCreate, { teamId, name: 'Crash', description: '', template: 'empty' });
    const { runId } = await rpc.send(Rpc.messagePost, { teamId, appId: app.id, content: 'A to-do list with a bug', authorId: '' });
    let run = await rpc.send(Rpc.runGet, { teamId, runId });
    for (let i = 0; i < 600 && !run.steps.some((s) => s.kind === 'preview_check'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = await rpc.send(Rpc.runGet, { teamId, runId });
    }
    expect(run.steps.at(-1)?.summary).toContain('asking the agent to fix them (1 of 2)');
    await orchestrator.stopService('orchestrator', 'SIGKILL');
    await orchestrator.start('orchestrator');
    for (let i = 0; i < 600 && [orchestratorV1.RunStatus.QUEUED, orchestratorV1.RunStatus.RUNNING].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await rpc.send(Rpc.runGet, { teamId, runId });
    }
    expect(run.status).toBe(orchestratorV1.RunStatus.COMPLETED);
    const kinds = run.steps.map((s) => s.kind);
    expect(kinds).toContain('run_resumed');
    expect(run.steps.filter((s) => s.kind === 'preview_check').map((s) => s.summary)).toEqual([
      'Preview check found 1 uncaught exception(s); asking the agent to fix them (1 of 2)',
      expect.stringMatching(/^Preview check passed/),
    ]);
    expect(kinds.slice(-4)).toEqual(['model_call', 'commit', 'preview_check', 'run_completed']);
    expect(readFileSync(join(workspacesDir, app.id, 'app.js'), 'utf8')).toMatch(/\nrender\(\);\n$/);
  });
});

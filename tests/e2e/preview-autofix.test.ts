import { orchestratorV1, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import {
  AnthropicFake,
  DEMO_PREVIEW_FEEDBACK,
  demoResponder,
  launchPlatform,
  runAllMigrations,
  type FakeTurn,
  type RecordedAnthropicRequest,
  type RunningPlatform,
  stackNatsCredentials,
} from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// After a turn commits, the headless check opens the new version; its errors go back to the
// model as a new turn, a bounded number of times per message.
describe('preview check and autofix turns', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake();
  let platform: RunningPlatform;
  let workspacesDir: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  async function runToEnd(content: string): Promise<{ run: orchestratorV1.Run; appId: string; teamId: string }> {
    const teamId = randomUUID();
    const app = await rpc.send(Rpc.appCreate, { teamId, name: 'Autofix', description: '', template: 'empty' });
    const { runId } = await rpc.send(Rpc.messagePost, { teamId, appId: app.id, content, authorId: '' });
    let run = await rpc.send(Rpc.runGet, { teamId, runId });
    for (let i = 0; i < 600 && [orchestratorV1.RunStatus.QUEUED, orchestratorV1.RunStatus.RUNNING].includes(run.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = await rpc.send(Rpc.runGet, { teamId, runId });
    }
    return { run, appId: app.id, teamId };
  }

  const feedbackRequests = () => anthropic.requests.filter((r) => lastUserText(r).startsWith(DEMO_PREVIEW_FEEDBACK));

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'preview-autofix');
    workspacesDir = join(dir, 'workspaces');
    const url = await anthropic.start();
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['orchestrator', 'ai-router', 'tool-runner', 'git-service'],
      env: { ANTHROPIC_API_KEY: 'demo', ANTHROPIC_BASE_URL: url, LOG_LEVEL: 'warn', PREVIEW_AUTOFIX_TURNS: '2' },
    });
    nc = await connectNats(stack.natsUrl, 'preview-autofix-e2e', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('preview-autofix-e2e'));
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    await anthropic.stop();
  });

  it("demo: the first version's script throws, the check catches it, and the next turn fixes it", async () => {
    anthropic.reset();
    anthropic.respondWith(demoResponder);
    const { run, appId } = await runToEnd('Build a to-do list with a bug');
    expect(run.status).toBe(orchestratorV1.RunStatus.COMPLETED);
    const checks = run.steps.filter((s) => s.kind === 'preview_check');
    expect(checks.map((s) => s.summary)).toEqual([
      'Preview check found 1 uncaught exception(s); asking the agent to fix them (1 of 2)',
      expect.stringMatching(/^Preview check passed \(loaded in \d+ ms\)$/),
    ]);
    expect(run.steps.map((s) => s.kind).slice(-4)).toEqual(['model_call', 'commit', 'preview_check', 'run_completed']);
    const feedback = feedbackRequests();
    expect(feedback).toHaveLength(1);
    expect(lastUserText(feedback[0]!)).toMatch(/Uncaught exceptions:\n- ReferenceError: renderAll is not defined/);
    expect(readFileSync(join(workspacesDir, appId, 'app.js'), 'utf8')).toMatch(/\nrender\(\);\n$/);
    expect(run.iterations).toBe(5);
  });

  it('stops handing errors back after PREVIEW_AUTOFIX_TURNS, and the run still completes', async () => {
    anthropic.reset();
    // A model that never manages to fix the page (each attempt breaks it differently).
    let attempt = 0;
    anthropic.respondWith((request) => (lastIsToolResult(request) ? endTurn('Done.') : brokenPage(++attempt)));
    const { run } = await runToEnd('Make a page');
    expect(run.status).toBe(orchestratorV1.RunStatus.COMPLETED);
    expect(run.steps.filter((s) => s.kind === 'preview_check').map((s) => s.summary)).toEqual([
      'Preview check found 1 uncaught exception(s); asking the agent to fix them (1 of 2)',
      'Preview check found 1 uncaught exception(s); asking the agent to fix them (2 of 2)',
      'Preview check found 1 uncaught exception(s); not fixed automatically again (2 of 2 used)',
    ]);
    expect(feedbackRequests()).toHaveLength(2);
    expect(run.iterations).toBe(6);
  });

  it('does not check a version twice: a fix that changes nothing ends the run', async () => {
    anthropic.reset();
    anthropic.respondWith((request) => (lastIsToolResult(request) ? endTurn('Done.') : brokenPage(0)));
    const { run } = await runToEnd('Make a page');
    expect(run.status).toBe(orchestratorV1.RunStatus.COMPLETED);
    expect(run.steps.filter((s) => s.kind === 'preview_check')).toHaveLength(1);
    expect(run.steps.map((s) => s.kind).slice(-3)).toEqual(['model_call', 'commit', 'run_completed']);
  });

  it('records a check of a version with no page as not checked, without an autofix turn', async () => {
    anthropic.reset();
    anthropic.script(
      { content: [{ type: 'tool_use', name: 'write_file', input: { path: 'notes.md', content: '# notes\n' } }] },
      { content: [{ type: 'text', text: 'Done.' }] },
    );
    const { run } = await runToEnd('Write notes');
    expect(run.status).toBe(orchestratorV1.RunStatus.COMPLETED);
    expect(run.steps.filter((s) => s.kind === 'preview_check').map((s) => s.summary)).toEqual([
      expect.stringContaining('Preview not checked: This version has no index.html'),
    ]);
    expect(feedbackRequests()).toHaveLength(0);
  });
});

function lastUserText(request: RecordedAnthropicRequest): string {
  const messages = (request.body?.messages ?? []) as Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>;
  const last = messages.at(-1);
  if (!last || last.role !== 'user') return '';
  return typeof last.content === 'string' ? last.content : last.content.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
}

function lastIsToolResult(request: RecordedAnthropicRequest): boolean {
  const messages = (request.body?.messages ?? []) as Array<{ content: unknown }>;
  const last = messages.at(-1)?.content;
  return Array.isArray(last) && last.some((b: { type?: string }) => b.type === 'tool_result');
}

function brokenPage(attempt: number): FakeTurn {
  const html = `<html><head></head><body><h1>Page</h1><script>undefinedFunction${attempt}();</script></body></html>`;
  return { content: [{ type: 'tool_use', name: 'write_file', input: { path: 'index.html', content: html } }] };
}

function endTurn(text: string): FakeTurn {
  return { content: [{ type: 'text', text }], stop_reason: 'end_turn' };
}

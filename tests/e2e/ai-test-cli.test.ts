import { AnthropicFake, freePort, launchPlatform, OpenAiChatFake, type RunningPlatform } from '@overskill/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliAsync } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const ANTHROPIC_KEY = 'sk-ant-e2e-aitest-0123456789abcdef';
const COMPAT_KEY = 'sk-or-e2e-aitest-0123456789abcdef';
// The key the "stale" provider holds: the fake refuses it.
const WRONG_KEY = 'wrong-key-0123456789abcdef-never-shown';

// `overskill ai test`: one minimal call to each configured model through ai-router, against the
// Anthropic and OpenAI fakes (real SDKs over loopback HTTP), with a provider that refuses our key
// one that is not there, and a model the provider has retired.
describe('operator CLI: ai test', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: ANTHROPIC_KEY }).respondWith(() => ({ content: [{ type: 'text', text: 'p' }], stop_reason: 'max_tokens' }));
  const compat = new OpenAiChatFake({ apiKey: COMPAT_KEY }).respondWith(() => ({ content: 'p', finishReason: 'length' }));
  let platform: RunningPlatform;
  let closedPort: number;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'ai-test');
    const urls = { anthropic: await anthropic.start(), compat: await compat.start() };
    closedPort = await freePort();
    const models = join(dir, 'ai_models.yml');
    writeFileSync(
      models,
      `
primary_model: anthropic/claude-sonnet-4-6
fallback_model: compat/kimi-k2
models:
  stale: stale/kimi-k2
  gone: gone/claude-haiku-4-5
  retired: anthropic/claude-sonnet-4-5
providers:
  anthropic: { type: anthropic, base_url: "${urls.anthropic}", api_key_env: ANTHROPIC_API_KEY }
  compat: { type: openai, base_url: "${urls.compat}", api_key_env: COMPAT_API_KEY }
  stale: { type: openai, base_url: "${urls.compat}", api_key_env: STALE_API_KEY }
  gone: { type: anthropic, base_url: "http://127.0.0.1:${closedPort}", api_key_env: ANTHROPIC_API_KEY }
`,
    );
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['ai-router'],
      env: { LOG_LEVEL: 'warn', AI_MODELS_FILE: models, ANTHROPIC_API_KEY: ANTHROPIC_KEY, COMPAT_API_KEY: COMPAT_KEY, STALE_API_KEY: WRONG_KEY },
    });
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
    await anthropic.stop();
    await compat.stop();
  });

  it('calls every configured model once, reports latency and errors, and exits 1 when one fails', async () => {
    const before = { anthropic: anthropic.requests.length, compat: compat.requests.length };
    const r = await runCliAsync(['ai', 'test', '--json'], stack);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, failed: 3 });
    const by = Object.fromEntries(report.models.map((m: { alias: string }) => [m.alias, m]));
    expect(by.primary).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-6', ok: true, error: null });
    expect(by.fallback).toMatchObject({ provider: 'compat', model: 'kimi-k2', ok: true });
    expect(by.primary.latencyMs).toBeGreaterThanOrEqual(0);
    expect(by.stale).toMatchObject({ ok: false, error: { kind: 'auth', httpStatus: 401 } });
    expect(by.gone).toMatchObject({ ok: false, error: { kind: 'connection' } });
    expect(by.retired).toMatchObject({
      ok: false,
      error: { kind: 'unknown_model', httpStatus: 404, message: expect.stringContaining('retired or misspelled') },
    });
    expect(by.image).toMatchObject({ ok: null, skipped: expect.stringContaining('billed') });
    // One minimal request each: one token, no retries.
    expect(anthropic.requests.length - before.anthropic).toBe(2);
    expect(compat.requests.length - before.compat).toBe(2);
    expect(anthropic.requests.at(-1)?.body).toMatchObject({ max_tokens: 1 });
    for (const secret of [ANTHROPIC_KEY, COMPAT_KEY, WRONG_KEY]) expect(r.stdout + r.stderr).not.toContain(secret);

    const text = await runCliAsync(['ai', 'test'], stack);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^ok {4}primary +anthropic\/claude-sonnet-4-6 +\d+ ms$/m);
    expect(text.stdout).toMatch(/^FAIL {2}stale +stale\/kimi-k2 +\d+ ms {2}auth: /m);
    expect(text.stdout).toMatch(/^FAIL {2}retired +anthropic\/claude-sonnet-4-5 +\d+ ms {2}unknown_model: /m);
    expect(text.stdout).toContain('3 of 5 models failed');
    for (const secret of [ANTHROPIC_KEY, COMPAT_KEY, WRONG_KEY]) expect(text.stdout).not.toContain(secret);
  });

  it('exits 0 when every model asked for answers, and refuses an unknown alias or bad flags', async () => {
    const good = await runCliAsync(['ai', 'test', '--alias', 'primary,fallback', '--json'], stack);
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      ok: true,
      failed: 0,
      models: [expect.objectContaining({ alias: 'primary' }), expect.objectContaining({ alias: 'fallback' })],
    });
    expect(await runCliAsync(['ai', 'test', '--alias', 'nonsense'], stack)).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^overskill: AI_MODEL_ALIAS_UNKNOWN: unknown model alias nonsense/),
    });
    expect(await runCliAsync(['ai', 'test', '--timeout', 'soon'], stack)).toMatchObject({
      status: 2,
      stderr: 'overskill: --timeout takes whole seconds from 1 to 120\n',
    });
    expect(await runCliAsync(['ai', 'test', 'primary'], stack)).toMatchObject({ status: 2, stderr: expect.stringContaining('takes 0 arguments') });
  });

  it('says so when ai-router is down', async () => {
    await platform.stopService('ai-router');
    const r = await runCliAsync(['ai', 'test'], stack);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^overskill: RPC_NO_RESPONDERS: /);
  }, 30_000);
});

import { AnthropicFake, launchPlatform, runAllMigrations, type RunningPlatform } from '@overskill/testing';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, jsonBody, REPO_ROOT, scratchDir } from '../support/integration-env';

const ANTHROPIC_KEY = 'sk-ant-api03-securitySECRETsecretSECRET0123';
const PRIMARY = 'claude-sonnet-4-6';

// Hostile clients against the Anthropic-compatible endpoint: every bad body is a clear 4xx
// with a code and no provider call; keys never leak to providers or logs, even with AI_DEBUG.
describe('gateway /api/v1/messages under hostile input, and AI_DEBUG redaction', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: ANTHROPIC_KEY });
  let platform: RunningPlatform;
  let gateway: string;
  let logDir: string;
  let owner: { key: string; teamId: string };
  let viewer: { key: string; teamId: string };

  const post = (body: string, key = owner.key, contentType = 'application/json') =>
    fetch(`${gateway}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': contentType, 'anthropic-version': '2023-06-01' },
      body,
    });

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'ai-security');
    logDir = join(dir, 'logs');
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }] }));
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const configFile = join(dir, 'ai_models.yml');
    writeFileSync(
      configFile,
      `primary_model: anthropic/${PRIMARY}\nfallback_model: anthropic/claude-haiku-4-5\nproviders:\n  anthropic: { type: anthropic, base_url: "${anthropicUrl}", api_key_env: ANTHROPIC_API_KEY }\nrate_limits: { requests_per_minute: 1000, tokens_per_minute: 10000000 }\n`,
    );
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir,
      services: ['gateway', 'ai-router'],
      env: { LOG_LEVEL: 'info', AI_DEBUG: 'true', AI_MODELS_FILE: configFile, ANTHROPIC_API_KEY: ANTHROPIC_KEY },
    });
    gateway = platform.urls.gateway!;
    owner = createTeamKey(stack, 'ai-security', 'owner');
    viewer = createTeamKey(stack, 'ai-security', 'viewer');
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
    await anthropic.stop();
  });

  const hostile: Array<[string, string, number, string]> = [
    ['not JSON', '{"model": "primary",', 400, ''],
    ['a JSON array', '[1,2,3]', 400, 'AI_REQUEST_INVALID'],
    ['no messages', JSON.stringify({ model: 'primary', max_tokens: 10, messages: [] }), 400, 'AI_REQUEST_INVALID'],
    ['max_tokens absurd', JSON.stringify({ model: 'primary', max_tokens: 1e12, messages: [{ role: 'user', content: 'x' }] }), 400, 'AI_REQUEST_INVALID'],
    ['max_tokens negative', JSON.stringify({ model: 'primary', max_tokens: -1, messages: [{ role: 'user', content: 'x' }] }), 400, 'AI_REQUEST_INVALID'],
    ['a system role', JSON.stringify({ model: 'primary', max_tokens: 10, messages: [{ role: 'system', content: 'x' }] }), 400, 'AI_REQUEST_INVALID'],
    [
      'tool_use from the user',
      JSON.stringify({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'b', input: {} }] }] }),
      400,
      'AI_REQUEST_INVALID',
    ],
    [
      'an image block',
      JSON.stringify({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] }),
      400,
      'AI_REQUEST_INVALID',
    ],
    [
      'a bad tool name',
      JSON.stringify({
        model: 'primary',
        max_tokens: 10,
        tools: [{ name: '../../etc', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: 'x' }],
      }),
      400,
      'AI_REQUEST_INVALID',
    ],
    [
      'temperature 5',
      JSON.stringify({ model: 'primary', max_tokens: 10, temperature: 5, messages: [{ role: 'user', content: 'x' }] }),
      400,
      'AI_REQUEST_INVALID',
    ],
    ['an unknown model', JSON.stringify({ model: 'x'.repeat(150), max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), 400, 'AI_MODEL_ALIAS_UNKNOWN'],
    ['prototype pollution', '{"model":"primary","max_tokens":10,"messages":[{"role":"user","content":"x"}],"__proto__":{"admin":true}}', 400, ''],
    [
      'a run budget smuggled in',
      JSON.stringify({ model: 'primary', max_tokens: 10, run_budget_usd: 1e9, messages: [{ role: 'user', content: 'x' }] }),
      400,
      'AI_REQUEST_INVALID',
    ],
  ];

  it.each(hostile)('refuses %s with a clear 4xx and no provider call', async (_label, body, status, code) => {
    const before = anthropic.requests.length;
    const res = await post(body);
    expect(res.status).toBe(status);
    const answer = await jsonBody(res);
    expect(JSON.stringify(answer)).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
    if (code) expect(answer).toMatchObject({ type: 'error', code, error: { type: 'invalid_request_error', message: expect.any(String) } });
    expect(anthropic.requests.length).toBe(before);
  });

  it('refuses a viewer key and a missing key before anything reaches ai-router', async () => {
    const body = JSON.stringify({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect((await post(body, viewer.key)).status).toBe(403);
    expect((await fetch(`${gateway}/api/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('lets a team read only its own usage', async () => {
    const res = await fetch(`${gateway}/api/admin/ai/usage?teamId=00000000-0000-4000-8000-000000000000`, { headers: { 'x-api-key': owner.key } });
    expect(res.status).toBe(400);
    const own = await jsonBody(await fetch(`${gateway}/api/admin/ai/usage`, { headers: { 'x-api-key': owner.key } }));
    expect(own.teamId).toBe(owner.teamId);
  });

  it('logs full requests and responses with AI_DEBUG=true, with every secret redacted', async () => {
    const secretInPrompt = 'my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX and the db is postgres://app:hunter2@db/x';
    const res = await post(
      JSON.stringify({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: `Deploy it. ${secretInPrompt}. Mention the word zebra.` }] }),
    );
    expect(res.status).toBe(200);
    let log = '';
    for (let i = 0; i < 200 && !log.includes('model response'); i++) {
      log = readFileSync(join(logDir, 'ai-router.log'), 'utf8');
      if (!log.includes('model response')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(log).toContain('model request');
    expect(log).toContain('Mention the word zebra');
    expect(log).toContain('model response');
    for (const secret of ['ABCDEFGHIJKLMNOPQRSTUVWX', 'hunter2', ANTHROPIC_KEY, owner.key]) expect(log).not.toContain(secret);
    const gatewayLog = readFileSync(join(logDir, 'gateway.log'), 'utf8');
    expect(gatewayLog).not.toContain(owner.key);
  });
});

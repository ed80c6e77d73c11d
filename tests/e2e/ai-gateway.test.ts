import Anthropic from '@anthropic-ai/sdk';
import { AnthropicFake, launchPlatform, OpenAiChatFake, runAllMigrations, type RunningPlatform } from '@overskill/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTeamKey } from '../support/cli';
import { integrationStack, jsonBody, REPO_ROOT, scratchDir } from '../support/integration-env';

const ANTHROPIC_KEY = 'sk-ant-e2e-gateway';
const COMPAT_KEY = 'sk-or-e2e-gateway';
const PRIMARY = 'claude-sonnet-4-6';

const WRITE_FILE: Anthropic.Tool = {
  name: 'write_file',
  description: 'Write a file',
  input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

// Any Anthropic client can use overskill as its gateway: the real @anthropic-ai/sdk, pointed at
// POST /api/v1/messages with a team key, goes gateway → NATS → ai-router → provider fakes.
describe('gateway /api/v1/messages (Anthropic-compatible) and the AI admin routes', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: ANTHROPIC_KEY });
  const compat = new OpenAiChatFake({ apiKey: COMPAT_KEY });
  let platform: RunningPlatform;
  let gateway: string;
  let owner: { key: string; teamId: string };
  let member: { key: string; teamId: string };
  let thrifty: { key: string; teamId: string };
  let limited: { key: string; teamId: string };

  const sdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: `${gateway}/api`, maxRetries: 0 });

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'ai-gateway');
    const anthropicUrl = await anthropic.start();
    const compatUrl = await compat.start();
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    // Keys are created through the running gateway, so the thrifty team's budget is set by id
    // after it exists: the file is hot-reloaded.
    const configFile = join(dir, 'ai_models.yml');
    const yaml = (extra = '') => `
primary_model: anthropic/${PRIMARY}
fallback_model: compat/kimi-k2
providers:
  anthropic: { type: anthropic, base_url: "${anthropicUrl}", api_key_env: ANTHROPIC_API_KEY }
  compat: { type: openai, base_url: "${compatUrl}", api_key_env: COMPAT_API_KEY }
retries: { max_attempts_per_model: 2, max_attempts_total: 3, timeout_ms: 5000 }
rate_limits: { requests_per_minute: 1000, tokens_per_minute: 10000000, max_queue_ms: 0 }
${extra}`;
    writeFileSync(configFile, yaml());
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['gateway', 'ai-router'],
      env: {
        LOG_LEVEL: 'warn',
        AI_MODELS_FILE: configFile,
        ANTHROPIC_API_KEY: ANTHROPIC_KEY,
        COMPAT_API_KEY: COMPAT_KEY,
        GATEWAY_OPERATOR_TEAMS: 'ai-gateway-owner',
      },
    });
    gateway = platform.urls.gateway!;
    owner = createTeamKey(stack, 'ai-gateway-owner', 'owner');
    member = createTeamKey(stack, 'ai-gateway-owner', 'member');
    thrifty = createTeamKey(stack, 'ai-gateway-thrifty', 'owner');
    limited = createTeamKey(stack, 'ai-gateway-limited', 'owner');
    writeFileSync(
      configFile,
      yaml(`budgets:\n  teams:\n    "${thrifty.teamId}": 0.000001\n`).replace(
        'max_queue_ms: 0 }',
        `max_queue_ms: 0, teams: { "${limited.teamId}": { requests_per_minute: 1, tokens_per_minute: 100000 } } }`,
      ),
    );
    for (let i = 0; i < 100; i++) {
      const status = await jsonBody(await fetch(`${gateway}/api/admin/ai/status`, { headers: { 'x-api-key': owner.key } }));
      if (status.config?.loadedAt && status.aliases?.length) {
        const usage = await jsonBody(await fetch(`${gateway}/api/admin/ai/usage`, { headers: { 'x-api-key': thrifty.key } }));
        if (usage.budgetUsd > 0) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 180_000);

  beforeEach(() => {
    anthropic.reset();
    compat.reset();
  });

  afterAll(async () => {
    await platform?.stop();
    await anthropic.stop();
    await compat.stop();
  });

  it('answers messages.create from the real SDK, with the team key accounted and the cost in a header', async () => {
    anthropic.script({ content: [{ type: 'text', text: 'Hello through overskill' }], usage: { input_tokens: 10, output_tokens: 5 } });
    const { data: message, response } = await sdk(owner.key)
      .messages.create({ model: 'primary', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: PRIMARY,
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'Hello through overskill' }],
      usage: { input_tokens: 10, output_tokens: 5 },
    });
    expect(Number(response.headers.get('x-overskill-cost-usd'))).toBeCloseTo((10 * 3 + 5 * 15) / 1e6, 12);
    expect(response.headers.get('x-overskill-model-alias')).toBe('primary');
    // The provider saw our provider key, never the team's key.
    expect(anthropic.requests[0].headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(JSON.stringify(anthropic.requests[0].headers)).not.toContain(owner.key);
  });

  it('streams text and tool use as Anthropic SSE events that the SDK assembles', async () => {
    anthropic.script({
      content: [
        { type: 'text', text: 'Writing the page now.' },
        { type: 'tool_use', name: 'write_file', input: { path: 'index.html' } },
      ],
    });
    const stream = sdk(owner.key).messages.stream({
      model: 'primary',
      max_tokens: 200,
      tools: [WRITE_FILE],
      messages: [{ role: 'user', content: 'Make a page' }],
    });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('Writing the page now.');
    expect(texts.length).toBeGreaterThan(1);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[1]).toMatchObject({ type: 'tool_use', name: 'write_file', input: { path: 'index.html' } });
    expect(anthropic.requests[0].stream).toBe(true);
  });

  it('streams through the fallback (OpenAI-compatible) when the primary is overloaded', async () => {
    anthropic.failNext({ status: 529 }, 2);
    compat.script({ content: 'From the fallback', toolCalls: [{ id: 'call_1', name: 'write_file', arguments: { path: 'a.css' } }] });
    const final = await sdk(owner.key)
      .messages.stream({ model: 'primary', max_tokens: 200, tools: [WRITE_FILE], messages: [{ role: 'user', content: 'Style it' }] })
      .finalMessage();
    expect(anthropic.requests).toHaveLength(2);
    expect(final.model).toBe('kimi-k2');
    expect(final.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'From the fallback' }),
      expect.objectContaining({ type: 'tool_use', id: 'call_1', name: 'write_file', input: { path: 'a.css' } }),
    ]);
  });

  it('refuses over-budget calls with 402 before any provider call, for an owner key too', async () => {
    const err = await sdk(thrifty.key)
      .messages.create({ model: 'primary', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'billing_error', message: expect.stringMatching(/team budget/) },
      code: 'AI_BUDGET_EXCEEDED',
    });
    expect(anthropic.requests).toHaveLength(0);
  });

  it('answers a team over its rate limit with 429, retry-after and the SDK’s RateLimitError', async () => {
    anthropic.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }] }));
    let refusal: unknown;
    // One a minute: of three quick calls at least one is refused (two if a minute boundary falls between).
    for (let i = 0; i < 3 && !refusal; i++) {
      refusal = await sdk(limited.key)
        .messages.create({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    }
    expect(refusal).toBeInstanceOf(Anthropic.RateLimitError);
    const error = refusal as InstanceType<typeof Anthropic.RateLimitError>;
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(error.error).toMatchObject({ error: { type: 'rate_limit_error' }, code: 'AI_RATE_LIMITED' });
  });

  it('answers bad requests and bad keys with Anthropic-shaped errors the SDK understands', async () => {
    const bad = await sdk(owner.key)
      .messages.create({
        model: 'primary',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Hi' }],
        top_k: 5,
      } as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect((bad as Error).message).toMatch(/top_k is not supported/);
    const unknownModel = await sdk(owner.key)
      .messages.create({ model: 'gpt-imaginary', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(unknownModel).toBeInstanceOf(Anthropic.BadRequestError);
    const noKey = await sdk('osk_nope')
      .messages.create({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('shows breakers, cache and usage to owners and admins only, and switches the model', async () => {
    const asOwner = (path: string, init: RequestInit = {}) =>
      fetch(`${gateway}${path}`, { ...init, headers: { 'x-api-key': owner.key, 'content-type': 'application/json' } });
    const status = await jsonBody(await asOwner('/api/admin/ai/status'));
    expect(status).toMatchObject({ activeAlias: 'primary', aliases: expect.arrayContaining([{ alias: 'fallback', provider: 'compat', model: 'kimi-k2' }]) });
    expect(status.breakers).toEqual(
      expect.arrayContaining([expect.objectContaining({ model: PRIMARY, state: expect.stringMatching(/closed|open|half_open/) })]),
    );
    const cache = await jsonBody(await asOwner('/api/admin/ai/cache'));
    expect(cache).toMatchObject({ ttlSeconds: 300, maxBytes: 104857600 });
    const usage = await jsonBody(await asOwner('/api/admin/ai/usage'));
    expect(usage).toMatchObject({ teamId: owner.teamId, requests: expect.any(Number) });
    expect(usage.requests).toBeGreaterThanOrEqual(3);
    expect(usage.costUsd).toBeGreaterThan(0);

    for (const path of ['/api/admin/ai/status', '/api/admin/ai/cache', '/api/admin/ai/usage']) {
      const res = await fetch(`${gateway}${path}`, { headers: { 'x-api-key': member.key } });
      expect(res.status).toBe(403);
    }
    const memberSwitch = await fetch(`${gateway}/api/admin/ai/model`, {
      method: 'POST',
      headers: { 'x-api-key': member.key, 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'fallback' }),
    });
    expect(memberSwitch.status).toBe(403);
    // An owner of a team that is not an operator team cannot flip the model for everyone.
    const tenantSwitch = await fetch(`${gateway}/api/admin/ai/model`, {
      method: 'POST',
      headers: { 'x-api-key': thrifty.key, 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'fallback' }),
    });
    expect(tenantSwitch.status).toBe(403);
    expect((await jsonBody(tenantSwitch)).message).toMatch(/operator teams/);

    const badSwitch = await asOwner('/api/admin/ai/model', { method: 'POST', body: JSON.stringify({ alias: 'nonsense' }) });
    expect(badSwitch.status).toBe(400);
    expect((await jsonBody(badSwitch)).code).toBe('AI_MODEL_ALIAS_UNKNOWN');
    const switched = await asOwner('/api/admin/ai/model', { method: 'POST', body: JSON.stringify({ alias: 'fallback' }) });
    try {
      expect(await jsonBody(switched)).toEqual({ activeAlias: 'fallback', previousAlias: 'primary' });
      compat.respondWith(() => ({ content: 'switched' }));
      let model = '';
      for (let i = 0; i < 50 && model !== 'kimi-k2'; i++) {
        model = (await sdk(owner.key).messages.create({ model: 'primary', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })).model;
        if (model !== 'kimi-k2') await new Promise((r) => setTimeout(r, 100));
      }
      expect(model).toBe('kimi-k2');
    } finally {
      await asOwner('/api/admin/ai/model', { method: 'POST', body: JSON.stringify({ alias: 'primary' }) });
    }
  });
});

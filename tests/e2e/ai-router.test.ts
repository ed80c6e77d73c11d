import { create, fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { aiV1, AppError, ErrorCode, Events, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { AnthropicFake, launchPlatform, OpenAiChatFake, OpenAiImagesFake, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection, Subscription } from 'nats';
import { runCli } from '../support/cli';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const ANTHROPIC_KEY = 'sk-ant-e2e-router';
const COMPAT_KEY = 'sk-or-e2e-router';
const PRIMARY = 'claude-sonnet-4-6';
const SMALL_TEAM = randomUUID();
const THRIFTY_TEAM = randomUUID();
const TOKEN_TEAM = randomUUID();
const SLOW_KEY = randomUUID();

function modelsYaml(anthropicUrl: string, compatUrl: string, fallbackModel = 'kimi-k2'): string {
  return `
primary_model: anthropic/${PRIMARY}
fallback_model: compat/${fallbackModel}
providers:
  anthropic: { type: anthropic, base_url: "${anthropicUrl}", api_key_env: ANTHROPIC_API_KEY }
  compat: { type: openai, base_url: "${compatUrl}", api_key_env: COMPAT_API_KEY }
retries: { max_attempts_per_model: 2, max_attempts_total: 4, timeout_ms: 5000 }
circuit_breaker: { failure_threshold: 2, open_seconds: 1 }
cache_settings: { ttl: 300, max_size: 100MB }
rate_limits:
  requests_per_minute: 1000
  tokens_per_minute: 10000000
  max_queue_ms: 0
  teams:
    "${SMALL_TEAM}": { requests_per_minute: 2, tokens_per_minute: 100000 }
    "${TOKEN_TEAM}": { requests_per_minute: 1000, tokens_per_minute: 2000 }
  keys:
    "${SLOW_KEY}": { requests_per_minute: 1, tokens_per_minute: 100000 }
budgets:
  teams:
    "${THRIFTY_TEAM}": 0.01
prices:
  version: e2e-2026-11
  models:
    ${PRIMARY}: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 }
    kimi-k2: { input: 0.6, output: 2.5 }
    kimi-k2-large: { input: 0.6, output: 2.5 }
`;
}

type Req = Omit<Extract<MessageInitShape<typeof aiV1.CompletionRequestSchema>, { $typeName?: undefined }>, '$typeName'>;

// ai-router end to end over NATS: the real Anthropic and OpenAI SDKs against loopback fakes,
// Redis for limits, budgets and the cache, JetStream for the usage events.
describe('ai-router: routing, fallback, limits, budgets, cache, accounting', () => {
  const stack = integrationStack();
  const anthropic = new AnthropicFake({ apiKey: ANTHROPIC_KEY });
  const compat = new OpenAiChatFake({ apiKey: COMPAT_KEY });
  const images = new OpenAiImagesFake({ apiKey: COMPAT_KEY });
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let usageEvents: Subscription;
  let configFile: string;
  let urls: { anthropic: string; compat: string };
  const events: aiV1.UsageRecorded[] = [];

  const ask = (init: Req = {}) =>
    client.send(
      Rpc.aiCompletionCreate,
      {
        teamId: init.teamId ?? randomUUID(),
        messages: [{ role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text: 'Say hi' } } }] }],
        maxTokens: 200,
        ...init,
      },
      { timeoutMs: 60_000 },
    );
  const failure = async (promise: Promise<unknown>): Promise<AppError> => {
    try {
      await promise;
    } catch (err) {
      if (err instanceof AppError) return err;
      throw err;
    }
    throw new Error('expected the call to fail');
  };
  const waitFor = async <T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> => {
    for (let i = 0; i < 150; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'ai-router');
    urls = { anthropic: await anthropic.start(), compat: await compat.start() };
    const imagesUrl = await images.start();
    configFile = join(dir, 'ai_models.yml');
    writeFileSync(configFile, modelsYaml(urls.anthropic, urls.compat));
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['ai-router'],
      env: {
        LOG_LEVEL: 'warn',
        AI_MODELS_FILE: configFile,
        ANTHROPIC_API_KEY: ANTHROPIC_KEY,
        COMPAT_API_KEY: COMPAT_KEY,
        AI_IMAGE_BASE_URL: imagesUrl,
        AI_IMAGE_API_KEY: COMPAT_KEY,
      },
    });
    nc = await connectNats(stack.natsUrl, 'ai-router-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('ai-router-e2e'), 30_000);
    usageEvents = nc.subscribe(Events.aiUsageRecorded.subject, { callback: (_err, msg) => events.push(fromBinary(aiV1.UsageRecordedSchema, msg.data)) });
  }, 120_000);

  beforeEach(() => {
    anthropic.reset();
    compat.reset();
    anthropic.respondWith(() => ({
      content: [{ type: 'text', text: 'hi from claude' }],
      usage: { input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 2000, cache_creation_input_tokens: 400 },
    }));
    compat.respondWith(() => ({ content: 'hi from kimi', usage: { prompt_tokens: 50, completion_tokens: 10 } }));
  });

  afterAll(async () => {
    usageEvents?.unsubscribe();
    await nc?.drain();
    await platform?.stop();
    await anthropic.stop();
    await compat.stop();
    await images.stop();
  });

  it('answers through the primary alias with cache breakpoints, exact cost and a usage event', async () => {
    const teamId = randomUUID();
    const runId = randomUUID();
    const reply = await ask({
      teamId,
      runId,
      appId: randomUUID(),
      apiKeyId: randomUUID(),
      system: 'You build apps.',
      tools: [{ name: 'write_file', description: 'Write', inputSchemaJson: '{"type":"object"}' }],
      messages: [
        { role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text: 'first' } } }] },
        { role: aiV1.Role.ASSISTANT, content: [{ block: { case: 'text', value: { text: 'ok' } } }] },
        { role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text: 'second' } } }] },
      ],
    });
    expect(reply).toMatchObject({ modelAlias: 'primary', model: PRIMARY, attempts: 1, fallbackUsed: false, cacheHit: false, priceTableVersion: 'e2e-2026-11' });
    // 1000 in × $3 + 100 out × $15 + 2000 cache reads × $0.30 + 400 cache writes × $3.75, per million.
    expect(reply.costUsd).toBeCloseTo((1000 * 3 + 100 * 15 + 2000 * 0.3 + 400 * 3.75) / 1e6, 12);
    const sent = anthropic.requests[0].body;
    expect(sent.system[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.tools[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.messages[1].content[0].cache_control).toEqual({ type: 'ephemeral' });
    expect(sent.messages[2].content[0].cache_control).toBeUndefined();
    // The trace context reaches the provider once (a second copy would arrive joined to the first).
    expect(anthropic.requests[0].headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);

    const event = await waitFor(() => events.find((e) => e.runId === runId), 'the usage event');
    expect(event).toMatchObject({
      teamId,
      requestedAlias: 'primary',
      modelAlias: 'primary',
      provider: 'anthropic',
      providerModel: PRIMARY,
      inputTokens: 1000n,
      outputTokens: 100n,
      cacheReadInputTokens: 2000n,
      cacheCreationInputTokens: 400n,
      attempts: 1,
      fallbackUsed: false,
      cacheHit: false,
      outcome: 'ok',
      priceTableVersion: 'e2e-2026-11',
    });
    expect(event.costUsd).toBeCloseTo(reply.costUsd, 12);
    expect(event.latencyMs).toBeGreaterThan(0);
  });

  it('accounts image calls too: one usage event per image, priced per image', async () => {
    const runId = randomUUID();
    const teamId = randomUUID();
    const image = await client.send(
      Rpc.aiImageGenerate,
      { teamId, appId: randomUUID(), runId, prompt: 'a blue sea', width: 64, height: 64, mimeType: 'image/png' },
      { timeoutMs: 30_000 },
    );
    expect(image.model).toBe('dall-e-3');
    const event = await waitFor(() => events.find((e) => e.runId === runId), 'the image usage event');
    expect(event).toMatchObject({ modelAlias: 'image', providerModel: 'dall-e-3', outcome: 'ok', attempts: 1 });
    expect(event.costUsd).toBeCloseTo(0.04, 12);
    // Held against the team like a model call: settled into the day's spend...
    const usage = await client.send(Rpc.aiUsageSummary, { teamId });
    expect(usage).toMatchObject({ requests: 1n });
    expect(usage.costUsd).toBeCloseTo(0.04, 12);
    // ...and refused before the provider when the team's budget ($0.01) cannot pay for one.
    const drawnBefore = images.requests.length;
    const refused = await failure(
      client.send(
        Rpc.aiImageGenerate,
        { teamId: THRIFTY_TEAM, appId: randomUUID(), runId: randomUUID(), prompt: 'a red sun', width: 64, height: 64, mimeType: 'image/png' },
        { timeoutMs: 30_000 },
      ),
    );
    expect(refused.code).toBe(ErrorCode.AI_BUDGET_EXCEEDED);
    expect(images.requests.length).toBe(drawnBefore);
  });

  it('529, 529, 200: spends exactly the configured two attempts on the primary, then falls back', async () => {
    anthropic.failNext({ status: 529 }, 2);
    anthropic.script({ content: [{ type: 'text', text: 'third time lucky' }] });
    const reply = await ask();
    expect(anthropic.requests).toHaveLength(2);
    expect(compat.requests).toHaveLength(1);
    expect(reply).toMatchObject({ modelAlias: 'fallback', model: 'kimi-k2', attempts: 3, fallbackUsed: true });
    expect(reply.content[0].block).toEqual(expect.objectContaining({ case: 'text', value: expect.objectContaining({ text: 'hi from kimi' }) }));
    // Tool-using history crosses to the OpenAI shape without losing content.
    const sent = compat.requests[0].body;
    expect(sent.messages).toEqual([{ role: 'user', content: 'Say hi' }]);
  });

  it('falls back on a context-window error, and says so plainly when no model can take the prompt', async () => {
    anthropic.failNext({ status: 400, message: 'prompt is too long: 250000 tokens > 200000 maximum' });
    const reply = await ask();
    expect(reply).toMatchObject({ modelAlias: 'fallback', fallbackUsed: true });

    anthropic.failNext({ status: 400, message: 'prompt is too long: 250000 tokens > 200000 maximum' });
    compat.failNext({ contextLengthExceeded: true });
    const err = await failure(ask());
    expect(err.code).toBe(ErrorCode.AI_CONTEXT_WINDOW_EXCEEDED);

    // A plain bad request is not retried on another model.
    anthropic.failNext({ status: 400, message: 'messages: roles must alternate' });
    expect((await failure(ask())).code).toBe(ErrorCode.AI_PROVIDER_ERROR);
    expect(compat.requests).toHaveLength(2);
  });

  it('opens the primary’s breaker after repeated overloads, skips it while open, and closes it after a good probe', async () => {
    const primaryBreaker = async () => (await client.send(Rpc.aiRouterStatus, {})).breakers.find((b) => b.model === PRIMARY);
    // Each call spends both its attempts on 529s; two such calls in a row open the breaker.
    for (let i = 0; i < 3 && (await primaryBreaker())?.state !== 'open'; i++) {
      anthropic.failNext({ status: 529 }, 2);
      expect((await ask()).modelAlias).toBe('fallback');
    }
    expect(await primaryBreaker()).toMatchObject({ state: 'open' });
    const metrics = await (await fetch(`${platform.urls['ai-router']}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`ai_circuit_breaker_state\\{model="${PRIMARY}"[^}]*\\} 2`));

    const before = anthropic.requests.length;
    const skipped = await ask();
    expect(skipped).toMatchObject({ modelAlias: 'fallback', attempts: 1 });
    expect(anthropic.requests.length).toBe(before);

    // After open_seconds the breaker lets one probe through; it succeeds and closes the breaker.
    const probed = await waitFor(async () => {
      const r = await ask();
      return r.modelAlias === 'primary' ? r : undefined;
    }, 'a successful probe');
    expect(probed.fallbackUsed).toBe(false);
    const closed = await client.send(Rpc.aiRouterStatus, {});
    expect(closed.breakers.find((b) => b.model === PRIMARY)).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('serves identical deterministic requests from the Redis cache, never a temperature > 0 one', async () => {
    const teamId = randomUUID();
    const before = await client.send(Rpc.aiCacheStats, {});
    const first = await ask({ teamId, temperature: 0 });
    const second = await ask({ teamId, temperature: 0 });
    expect(first.cacheHit).toBe(false);
    expect(second).toMatchObject({ cacheHit: true, costUsd: 0, attempts: 0 });
    expect(second.content).toEqual(first.content);
    expect(anthropic.requests).toHaveLength(1);

    await ask({ teamId, temperature: 0.7 });
    await ask({ teamId, temperature: 0.7 });
    expect(anthropic.requests).toHaveLength(3);
    await ask({ teamId, temperature: 0.7, allowCache: true });
    expect((await ask({ teamId, temperature: 0.7, allowCache: true })).cacheHit).toBe(true);

    const after = await client.send(Rpc.aiCacheStats, {});
    expect(Number(after.hits - before.hits)).toBeGreaterThanOrEqual(2);
    expect(after).toMatchObject({ ttlSeconds: 300, maxBytes: BigInt(100 * 1024 * 1024) });
    expect(after.hitRate).toBeGreaterThan(0);
    const metrics = await (await fetch(`${platform.urls['ai-router']}/metrics`)).text();
    expect(metrics).toMatch(/ai_cache_hits_total\{[^}]*\} [1-9]/);
  });

  it('refuses a team over its requests per minute with AI_RATE_LIMITED and a retry time', async () => {
    // Limit 2 a minute: five quick calls span at most two windows, so at least one is refused.
    let refusal: AppError | undefined;
    for (let i = 0; i < 5 && !refusal; i++) {
      refusal = await ask({ teamId: SMALL_TEAM }).then(
        () => undefined,
        (err: AppError) => err,
      );
    }
    expect(refusal?.code).toBe(ErrorCode.AI_RATE_LIMITED);
    expect(refusal?.message).toMatch(/retry in \d+ s/);
    expect(Number(refusal?.details.retryAfterSeconds)).toBeGreaterThanOrEqual(1);
    expect(refusal?.details.scope).toBe('team');
    expect(anthropic.requests.length).toBeGreaterThanOrEqual(2);
    expect(anthropic.requests.length).toBeLessThanOrEqual(4);
  });

  it('counts real tokens per minute, and limits a key apart from its team', async () => {
    // Each answer uses 3,500 tokens (1,000 in, 100 out, 2,400 cache): over the team's 2,000 a minute at once.
    // (Three tries: a minute boundary between two calls may admit one more.)
    let tokens: AppError | undefined;
    for (let i = 0; i < 3 && !tokens; i++) {
      tokens = await ask({ teamId: TOKEN_TEAM }).then(
        () => undefined,
        (err: AppError) => err,
      );
    }
    expect(tokens?.code).toBe(ErrorCode.AI_RATE_LIMITED);
    expect(tokens?.message).toMatch(/tokens per minute/);

    // One request a minute for this key, whatever its team allows: a second quick call is refused
    // (or, across a minute boundary, the third).
    let refusal: AppError | undefined;
    for (let i = 0; i < 3 && !refusal; i++) {
      refusal = await ask({ apiKeyId: SLOW_KEY }).then(
        () => undefined,
        (err: AppError) => err,
      );
    }
    expect(refusal).toMatchObject({ code: ErrorCode.AI_RATE_LIMITED, details: expect.objectContaining({ scope: 'key' }) });
  });

  it('enforces run and team budgets before the call and settles them from real usage', async () => {
    // A run capped at $0.001 cannot afford up to 1000 output tokens at $15/M: refused, no provider call.
    const tooDear = await failure(ask({ runId: randomUUID(), runBudgetUsd: 0.001, maxTokens: 1000 }));
    expect(tooDear.code).toBe(ErrorCode.AI_BUDGET_EXCEEDED);
    expect(tooDear.details.scope).toBe('run');
    expect(anthropic.requests).toHaveLength(0);

    // The thrifty team has $0.01 a day; each call really costs $0.0051 (see the first test), so the
    // settled spend admits a first call and refuses once the next could exceed the cap.
    const costs: number[] = [];
    let refusal: AppError | undefined;
    for (let i = 0; i < 5 && !refusal; i++) {
      try {
        costs.push((await ask({ teamId: THRIFTY_TEAM, maxTokens: 100 })).costUsd);
      } catch (err) {
        refusal = err as AppError;
      }
    }
    expect(refusal?.code).toBe(ErrorCode.AI_BUDGET_EXCEEDED);
    expect(refusal?.details.scope).toBe('team');
    expect(costs.length).toBeGreaterThanOrEqual(1);
    const usage = await client.send(Rpc.aiUsageSummary, { teamId: THRIFTY_TEAM });
    expect(usage.costUsd).toBeCloseTo(
      costs.reduce((a, b) => a + b, 0),
      12,
    );
    expect(usage.committedUsd).toBeCloseTo(usage.costUsd, 12);
    expect(usage.budgetUsd).toBe(0.01);
    // Refused calls never reached a provider: only the admitted ones are in the day's usage.
    expect(Number(usage.requests)).toBe(costs.length);
    const cli = runCli(['ai', 'usage', '--team', THRIFTY_TEAM, '--json'], stack);
    expect(cli.status).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ teamId: THRIFTY_TEAM, requests: costs.length, budgetUsd: 0.01 });
  });

  it('switches primary to the fallback at runtime from the CLI, and back', async () => {
    const switched = runCli(['ai', 'switch-model', 'fallback', '--json'], stack);
    expect(switched.status).toBe(0);
    expect(JSON.parse(switched.stdout)).toEqual({ activeAlias: 'fallback', previousAlias: 'primary' });
    try {
      const reply = await waitFor(async () => {
        const r = await ask();
        return r.modelAlias === 'fallback' ? r : undefined;
      }, 'the switch to reach the replica');
      expect(reply).toMatchObject({ model: 'kimi-k2', fallbackUsed: false });
      const status = runCli(['ai', 'status'], stack);
      expect(status.stdout).toContain('active alias for primary: fallback');
    } finally {
      expect(runCli(['ai', 'switch-model', 'primary'], stack).status).toBe(0);
    }
    const unknown = runCli(['ai', 'switch-model', 'nonsense'], stack);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('AI_MODEL_ALIAS_UNKNOWN');
  });

  it('reloads the model file when it changes, and keeps the last good config on a bad edit', async () => {
    writeFileSync(configFile, modelsYaml(urls.anthropic, urls.compat, 'kimi-k2-large'));
    await waitFor(async () => {
      const s = await client.send(Rpc.aiRouterStatus, {});
      return s.aliases.find((a) => a.alias === 'fallback')?.model === 'kimi-k2-large' ? s : undefined;
    }, 'the reload');
    writeFileSync(configFile, 'primary_model: [');
    await new Promise((r) => setTimeout(r, 1500));
    const s = await client.send(Rpc.aiRouterStatus, {});
    expect(s.aliases.find((a) => a.alias === 'fallback')?.model).toBe('kimi-k2-large');
    expect((await ask()).modelAlias).toBe('primary');
  });

  it('answers hostile requests with AI_REQUEST_INVALID and publishes no chunks on foreign subjects', async () => {
    expect((await failure(ask({ messages: [] }))).code).toBe(ErrorCode.AI_REQUEST_INVALID);
    expect((await failure(ask({ teamId: '' }))).code).toBe(ErrorCode.AI_REQUEST_INVALID);
    expect((await failure(ask({ modelAlias: 'gpt-imaginary' }))).code).toBe(ErrorCode.AI_MODEL_ALIAS_UNKNOWN);
    expect((await failure(ask({ runBudgetUsd: -1 }))).code).toBe(ErrorCode.AI_REQUEST_INVALID);
    const stream = client.send(Rpc.aiCompletionStream, {
      chunkSubject: 'git.repo.commit.v1',
      request: create(aiV1.CompletionRequestSchema, { teamId: 't', messages: [] }),
    });
    expect((await failure(stream)).code).toBe(ErrorCode.AI_REQUEST_INVALID);
    expect(anthropic.requests).toHaveLength(0);
  });
});

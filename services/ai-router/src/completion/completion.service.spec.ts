import { create } from '@bufbuild/protobuf';
import { aiV1, AppError, ErrorCode } from '@overskill/contracts';
import { createServiceMetrics } from '@overskill/observability';
import pino from 'pino';
import { AiMetrics } from '../ai-metrics';
import type { UsageEventsRepository } from '../accounting/usage-events.repository';
import type { ResponseCacheRepository } from '../cache/response-cache.repository';
import { aiRouterEnvSchema } from '../config';
import type { AdmissionResult, Settlement, UsageLedgerRepository } from '../limits/usage-ledger.repository';
import type { AiModelsConfigService } from '../models/ai-models-config.service';
import { defaultAiModelsConfig } from '../models/ai-models.config';
import type { ChatMessage } from '../providers/chat-provider';
import type { ModelRouterService } from '../routing/model-router.service';
import type { StreamChunkPublisher } from '../streaming/stream-chunk.publisher';
import { CompletionService } from './completion.service';

// The service with small fakes for its repositories: admission, queueing, settlement, accounting.
describe('CompletionService', () => {
  const env = aiRouterEnvSchema.parse({ ANTHROPIC_API_KEY: 'k' });
  const config = defaultAiModelsConfig(env);
  const alias = config.aliases.primary;
  const answer = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: alias.model,
    content: [{ type: 'text', text: 'hi', citations: null }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  } as unknown as ChatMessage;

  // One registry for the file: a metric name registers once.
  const metrics = new AiMetrics(createServiceMetrics('ai-router-spec'));
  let admissions: AdmissionResult[];
  let ledger: { admit: jest.Mock; settleDeferred: jest.Mock };
  let route: jest.Mock;
  let publish: jest.Mock;
  let service: CompletionService;

  const request = (init: { runBudgetUsd?: number; runId?: string } = {}) =>
    create(aiV1.CompletionRequestSchema, {
      teamId: 'team-1',
      apiKeyId: 'key-1',
      runId: 'run-1',
      messages: [{ role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text: 'Say hi' } } }] }],
      maxTokens: 100,
      ...init,
    });

  beforeEach(() => {
    config.rateLimits.maxQueueMs = 2000;
    admissions = [];
    ledger = { admit: jest.fn(async () => admissions.shift() ?? { ok: true }), settleDeferred: jest.fn() };
    route = jest.fn(async () => ({ result: answer, alias, attempts: 1, fallbackUsed: false }));
    publish = jest.fn(async () => undefined);
    const models = { current: () => config } as unknown as AiModelsConfigService;
    const router = { chainFor: () => [alias], route } as unknown as ModelRouterService;
    const cache = { get: jest.fn(async () => null), put: jest.fn(async () => true) } as unknown as ResponseCacheRepository;
    service = new CompletionService(
      env,
      models,
      router,
      ledger as unknown as UsageLedgerRepository,
      cache,
      { publish } as unknown as UsageEventsRepository,
      {} as StreamChunkPublisher,
      metrics,
      pino({ level: 'silent' }),
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('holds a request over the rate limit until the minute turns when that is within max_queue_ms', async () => {
    // 300 ms before a minute boundary.
    jest.spyOn(Date, 'now').mockReturnValue(60_000 * 29_000_000 - 300);
    admissions.push({ ok: false, reason: 'rate_limit', scope: 'team', dimension: 'requests' });
    const reply = await service.create(request());
    expect(reply.modelAlias).toBe('primary');
    expect(ledger.admit).toHaveBeenCalledTimes(2);
    expect(route).toHaveBeenCalledTimes(1);
  });

  it('refuses with AI_RATE_LIMITED and the seconds to wait when the window turns later than that', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(60_000 * 29_000_000 + 1000);
    admissions.push({ ok: false, reason: 'rate_limit', scope: 'key', dimension: 'tokens' });
    const err = (await service.create(request()).catch((e: unknown) => e)) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe(ErrorCode.AI_RATE_LIMITED);
    expect(err.details).toEqual({ scope: 'key', retryAfterSeconds: '59' });
    expect(route).not.toHaveBeenCalled();
    expect(ledger.settleDeferred).not.toHaveBeenCalled();
  });

  it('reserves the worst case for every scope, and settles the real cost after the reply', async () => {
    const reply = await service.create(request());
    // The reply is out before settlement and the usage event, which follow in the same turn.
    expect(ledger.settleDeferred).not.toHaveBeenCalled();
    expect(publish).not.toHaveBeenCalled();
    await new Promise(setImmediate);
    const admission = ledger.admit.mock.calls[0][0];
    expect(admission.budgets.map((b: { scope: string }) => b.scope)).toEqual(['team', 'key', 'run']);
    expect(admission.rate.map((r: { scope: string }) => r.scope)).toEqual(['team', 'key']);
    // Up to 100 output tokens at $15/M are reserved: at least 1.5 million nano-dollars.
    expect(admission.estimatedCostNano).toBeGreaterThanOrEqual(1_500_000);
    const [settlement] = ledger.settleDeferred.mock.calls[0][0] as Settlement[];
    expect(settlement.actualCostNano).toBe(100 * 3 * 1000 + 10 * 15 * 1000);
    expect(reply.costUsd).toBeCloseTo(0.00045, 12);
    expect(publish).toHaveBeenCalledWith(
      expect.objectContaining({ teamId: 'team-1', apiKeyId: 'key-1', runId: 'run-1', outcome: 'ok', inputTokens: 100n, outputTokens: 10n }),
    );
  });

  it('hands every call answered in one turn of the event loop to the ledger as one settlement, and publishes each usage event', async () => {
    await Promise.all([service.create(request()), service.create(request({ runId: 'run-2' })), service.create(request({ runId: 'run-3' }))]);
    await new Promise(setImmediate);
    expect(ledger.settleDeferred).toHaveBeenCalledTimes(1);
    const settlements = ledger.settleDeferred.mock.calls[0][0] as Settlement[];
    expect(settlements.map((s) => s.admission.budgets.find((b) => b.scope === 'run')?.id)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(settlements.every((s) => s.actualCostNano === 100 * 3 * 1000 + 10 * 15 * 1000)).toBe(true);
    expect(publish).toHaveBeenCalledTimes(3);
    expect(new Set(publish.mock.calls.map(([e]: [{ eventId: string }]) => e.eventId)).size).toBe(3);
    // The next turn's calls are a batch of their own.
    await service.create(request());
    await new Promise(setImmediate);
    expect(ledger.settleDeferred).toHaveBeenCalledTimes(2);
    expect(ledger.settleDeferred.mock.calls[1][0]).toHaveLength(1);
  });

  it('releases the reservation and records the failure when no model answers', async () => {
    route.mockRejectedValueOnce(new AppError(ErrorCode.AI_ALL_MODELS_UNAVAILABLE, 'none'));
    await expect(service.create(request())).rejects.toMatchObject({ code: ErrorCode.AI_ALL_MODELS_UNAVAILABLE });
    await new Promise(setImmediate);
    expect((ledger.settleDeferred.mock.calls[0][0] as Settlement[])[0]!.actualCostNano).toBe(0);
    expect(publish).toHaveBeenCalledWith(expect.objectContaining({ outcome: ErrorCode.AI_ALL_MODELS_UNAVAILABLE, costUsd: 0 }));
  });

  it('refuses an over-budget call before any provider call', async () => {
    admissions.push({ ok: false, reason: 'budget', scope: 'run', committedNano: 9e8, limitNano: 1e9 });
    await expect(service.create(request({ runBudgetUsd: 1 }))).rejects.toMatchObject({
      code: ErrorCode.AI_BUDGET_EXCEEDED,
      details: expect.objectContaining({ scope: 'run' }),
    });
    expect(route).not.toHaveBeenCalled();
  });
});

import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, aiV1, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AiMetrics } from '../ai-metrics';
import { costNanoUsd, nanoToUsd, usdToNano, type TokenCounts } from '../accounting/price-table';
import { debugJson } from '../accounting/redact-secrets';
import { UsageEventsRepository } from '../accounting/usage-events.repository';
import { ResponseCacheRepository } from '../cache/response-cache.repository';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { rateLimitedError, utcDay } from '../limits/admission-errors';
import { UsageLedgerRepository, type Admission, type BudgetScope, type RateScope, type Settlement } from '../limits/usage-ledger.repository';
import { AiModelsConfigService } from '../models/ai-models-config.service';
import type { AliasConfig } from '../models/ai-models.config';
import type { ChatMessage, ChatParams, ChatStreamEvent } from '../providers/chat-provider';
import { ModelRouterService } from '../routing/model-router.service';
import { StreamChunkPublisher } from '../streaming/stream-chunk.publisher';
import { cacheKey, estimateInputTokens, fromChatMessage, isCacheable, toChatParams } from './completion-mapping';
import { accumulateStream } from './stream-accumulator';

type CompletionReply = RpcReply<typeof Rpc.aiCompletionCreate>;

interface Answered {
  req: aiV1.CompletionRequest;
  admission: Admission;
  outcome: CallOutcome;
  tokens: TokenCounts;
  costNano: number;
  call: { latencyMs: number; occurredAt: string; streamed: boolean; priceTableVersion: string };
}

const RUN_BUDGET_TTL_SECONDS = 30 * 86_400;
const DAY_TTL_SECONDS = 2 * 86_400;

interface CallOutcome {
  message?: ChatMessage;
  alias?: AliasConfig;
  attempts: number;
  fallbackUsed: boolean;
  cacheHit: boolean;
  error?: unknown;
}

// One model call end to end: validate, admit (rate limits and budgets, atomically in Redis), serve
// from the cache or route through the providers, then settle the real cost and record the usage.
@Injectable()
export class CompletionService {
  // Calls answered in this turn of the event loop, settled and recorded together in its check phase.
  private readonly answered: Answered[] = [];

  constructor(
    @Inject(AI_ROUTER_ENV) private readonly env: AiRouterEnv,
    private readonly models: AiModelsConfigService,
    private readonly router: ModelRouterService,
    private readonly ledger: UsageLedgerRepository,
    private readonly cache: ResponseCacheRepository,
    private readonly usageEvents: UsageEventsRepository,
    private readonly chunks: StreamChunkPublisher,
    private readonly metrics: AiMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(req: RpcRequest<typeof Rpc.aiCompletionCreate>): Promise<CompletionReply> {
    const started = performance.now();
    const params = toChatParams(req);
    const chain = this.router.chainFor(req.modelAlias);
    const admission = await this.admit(req, params, chain);
    const outcome: CallOutcome = { attempts: 0, fallbackUsed: false, cacheHit: false };
    const cacheable = isCacheable(req);
    const key = cacheable ? cacheKey(req.teamId, chain[0].provider, chain[0].model, params) : '';
    try {
      if (cacheable) {
        const cached = await this.cache.get(key);
        (cached ? this.metrics.cacheHits : this.metrics.cacheMisses).inc();
        if (cached) {
          const response = fromBinary(aiV1.CompletionResponseSchema, cached);
          outcome.cacheHit = true;
          outcome.alias = chain[0];
          const reply = { ...response, cacheHit: true, costUsd: 0, attempts: 0, fallbackUsed: false, latencyMs: performance.now() - started };
          await this.finish(req, admission, outcome, zeroTokens(), started, false);
          return reply;
        }
      }
      this.debug('request', req, params);
      const routed = await this.router.route(req.modelAlias, (provider, alias, maxAttempts, timeoutMs) =>
        this.metrics.track(alias.model, () => provider.create(alias.model, params, { maxAttempts, timeoutMs })),
      );
      Object.assign(outcome, { message: routed.result, alias: routed.alias, attempts: routed.attempts, fallbackUsed: routed.fallbackUsed });
      this.debug('response', req, routed.result);
      const tokens = tokensOf(routed.result);
      const costNano = await this.finish(req, admission, outcome, tokens, started, false);
      const reply: CompletionReply = {
        ...fromChatMessage(routed.result),
        latencyMs: performance.now() - started,
        costUsd: nanoToUsd(costNano),
        attempts: routed.attempts,
        fallbackUsed: routed.fallbackUsed,
        cacheHit: false,
        modelAlias: routed.alias.alias,
        priceTableVersion: this.models.current().prices.version,
      };
      if (cacheable && !routed.fallbackUsed) {
        const config = this.models.current().cache;
        // Awaited: the next identical request (often the very next one) must find it.
        await this.cache
          .put(key, toBinary(aiV1.CompletionResponseSchema, create(aiV1.CompletionResponseSchema, reply)), config.ttlSeconds, config.maxBytes)
          .catch((err: unknown) => this.logger.warn({ err }, 'could not store a response in the cache'));
      }
      return reply;
    } catch (err) {
      if (!outcome.message && !outcome.cacheHit) {
        outcome.error = err;
        await this.finish(req, admission, outcome, zeroTokens(), started, false).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Streams the answer as Anthropic SSE events to `chunkSubject`, then replies with the totals. */
  async stream(streamReq: RpcRequest<typeof Rpc.aiCompletionStream>): Promise<CompletionReply> {
    const started = performance.now();
    const req = streamReq.request;
    if (!req) throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'request is required');
    const sink = this.chunks.open(streamReq.chunkSubject);
    const params = toChatParams(req);
    const chain = this.router.chainFor(req.modelAlias);
    const admission = await this.admit(req, params, chain);
    const outcome: CallOutcome = { attempts: 0, fallbackUsed: false, cacheHit: false };
    try {
      this.debug('request', req, params);
      const routed = await this.router.route(req.modelAlias, (provider, alias, maxAttempts, timeoutMs) =>
        provider.stream(alias.model, params, { maxAttempts, timeoutMs }),
      );
      Object.assign(outcome, { alias: routed.alias, attempts: routed.attempts, fallbackUsed: routed.fallbackUsed });
      const message = await accumulateStream(routed.result, (event: ChatStreamEvent) => sink.send(event.type, event));
      sink.flush();
      outcome.message = message;
      this.debug('response', req, message);
      const costNano = await this.finish(req, admission, outcome, tokensOf(message), started, true);
      return {
        ...fromChatMessage(message),
        latencyMs: performance.now() - started,
        costUsd: nanoToUsd(costNano),
        attempts: routed.attempts,
        fallbackUsed: routed.fallbackUsed,
        cacheHit: false,
        modelAlias: routed.alias.alias,
        priceTableVersion: this.models.current().prices.version,
      };
    } catch (err) {
      const code = err instanceof AppError ? err.code : ErrorCode.AI_PROVIDER_UNAVAILABLE;
      // The client may already hold part of the answer: end its stream the way Anthropic does.
      try {
        if (sink.sent > 0)
          sink.send('error', {
            type: 'error',
            error: {
              type: code === ErrorCode.AI_ALL_MODELS_UNAVAILABLE ? 'overloaded_error' : 'api_error',
              message: err instanceof AppError ? err.message : 'The model stream broke off',
            },
          });
        sink.flush();
      } catch {
        // NATS itself failed: the gateway ends the stream when its chunks stop.
      }
      outcome.error = err;
      await this.finish(req, admission, outcome, zeroTokens(), started, true).catch(() => undefined);
      if (err instanceof AppError) throw err;
      throw new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'The model stream broke off; try again');
    }
  }

  private async admit(req: aiV1.CompletionRequest, params: ChatParams, chain: AliasConfig[]): Promise<Admission> {
    if (!req.teamId) throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'team_id is required: every model call is accounted to a team');
    if (!(req.runBudgetUsd >= 0) || !Number.isFinite(req.runBudgetUsd))
      throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'run_budget_usd must be 0 or a positive amount');
    const config = this.models.current();
    const estimatedTokens = estimateInputTokens(req);
    // The worst case over the chain: whichever model answers, the reservation covers it.
    const estimatedCostNano = Math.max(
      ...chain.map((a) =>
        costNanoUsd(config.prices, a.model, {
          inputTokens: estimatedTokens,
          outputTokens: params.max_tokens,
          cacheReadInputTokens: 0,
          cacheCreationInputTokens: 0,
        }),
      ),
    );
    const day = utcDay();
    const rate: RateScope[] = [{ scope: 'team', id: req.teamId, ...(config.rateLimits.teams[req.teamId] ?? config.rateLimits) }];
    const budgets: BudgetScope[] = [
      {
        scope: 'team',
        id: req.teamId,
        limitNano: usdToNano(config.budgets.teams[req.teamId] ?? config.budgets.teamUsdPerDay),
        period: day,
        ttlSeconds: DAY_TTL_SECONDS,
      },
    ];
    if (req.apiKeyId) {
      rate.push({ scope: 'key', id: req.apiKeyId, ...(config.rateLimits.keys[req.apiKeyId] ?? config.rateLimits) });
      budgets.push({
        scope: 'key',
        id: req.apiKeyId,
        limitNano: usdToNano(config.budgets.keys[req.apiKeyId] ?? config.budgets.keyUsdPerDay),
        period: day,
        ttlSeconds: DAY_TTL_SECONDS,
      });
    }
    if (req.runId) budgets.push({ scope: 'run', id: req.runId, limitNano: usdToNano(req.runBudgetUsd), period: 'life', ttlSeconds: RUN_BUDGET_TTL_SECONDS });
    const queueUntil = Date.now() + config.rateLimits.maxQueueMs;
    for (;;) {
      const now = Date.now();
      const admission: Admission = { rate, budgets, estimatedTokens, estimatedCostNano, minute: Math.floor(now / 60_000) };
      const result = await this.ledger.admit(admission);
      if (result.ok) return admission;
      this.metrics.refusals.inc({ reason: result.reason, scope: result.scope });
      if (result.reason === 'budget') {
        throw new AppError(
          ErrorCode.AI_BUDGET_EXCEEDED,
          `The ${result.scope} budget of $${nanoToUsd(result.limitNano).toFixed(2)} would be exceeded: $${nanoToUsd(result.committedNano).toFixed(4)} is spent or in flight and this call may cost up to $${nanoToUsd(estimatedCostNano).toFixed(4)}; raise the budget or lower max_tokens`,
          { scope: result.scope, budgetUsd: String(nanoToUsd(result.limitNano)), committedUsd: String(nanoToUsd(result.committedNano)) },
        );
      }
      const retryAtMs = (admission.minute + 1) * 60_000;
      // Queue briefly when the window turns over soon; refuse with the retry time otherwise.
      if (retryAtMs <= queueUntil) {
        await new Promise((resolve) => setTimeout(resolve, retryAtMs - now + 5));
        continue;
      }
      throw rateLimitedError(admission, result, now);
    }
  }

  // Settles the reservation with the real cost, counts metrics and records the usage event.
  private async finish(
    req: aiV1.CompletionRequest,
    admission: Admission,
    outcome: CallOutcome,
    tokens: TokenCounts,
    started: number,
    streamed: boolean,
  ): Promise<number> {
    const config = this.models.current();
    const model = outcome.message?.model ?? outcome.alias?.model ?? '';
    const costNano = outcome.message && !outcome.cacheHit ? costNanoUsd(config.prices, outcome.alias?.model ?? model, tokens) : 0;
    const team = req.teamId;
    const metricModel = outcome.alias?.model ?? 'none';
    if (outcome.message && !outcome.cacheHit) {
      this.metrics.tokens.inc({ model: metricModel, team, kind: 'input' }, tokens.inputTokens);
      this.metrics.tokens.inc({ model: metricModel, team, kind: 'output' }, tokens.outputTokens);
      this.metrics.tokens.inc({ model: metricModel, team, kind: 'cache_read' }, tokens.cacheReadInputTokens);
      this.metrics.tokens.inc({ model: metricModel, team, kind: 'cache_write' }, tokens.cacheCreationInputTokens);
      this.metrics.cost.inc({ model: metricModel, team }, nanoToUsd(costNano));
    }
    const latencyMs = performance.now() - started;
    const occurredAt = new Date().toISOString();
    // Settlement and the usage event go out after the reply (the reply is flushed in a microtask,
    // this runs in the event loop's next check phase): their CPU is not on the caller's path.
    // Neither is awaited. The settlement rides with this replica's next admission, ahead of it in
    // the same write; until it lands a budget is over-counted (the reservation), never
    // under-counted. Every call answered in the same turn is settled in one script run.
    const call = { latencyMs, occurredAt, streamed, priceTableVersion: config.prices.version };
    if (this.answered.push({ req, admission, outcome, tokens, costNano, call }) === 1) setImmediate(() => this.settleAndRecord());
    return costNano;
  }

  private settleAndRecord(): void {
    const answered = this.answered.splice(0);
    const day = utcDay();
    const settlements = answered.map(({ req, admission, outcome, tokens, costNano }): Settlement => ({
      admission,
      actualTokens: tokens.inputTokens + tokens.outputTokens + tokens.cacheReadInputTokens + tokens.cacheCreationInputTokens,
      actualCostNano: costNano,
      team: req.teamId,
      day,
      usage: {
        requests: 1,
        inputTokens: tokens.inputTokens,
        outputTokens: tokens.outputTokens,
        cacheReadTokens: tokens.cacheReadInputTokens,
        cacheWriteTokens: tokens.cacheCreationInputTokens,
        cacheHits: outcome.cacheHit ? 1 : 0,
      },
    }));
    // Sent with this replica's next admission (one write, ahead of it) or after a few milliseconds.
    this.ledger.settleDeferred(settlements, (err: unknown) =>
      this.logger.error({ err, teamIds: [...new Set(settlements.map((s) => s.team))] }, 'could not settle model calls in Redis; the reservations stay counted'),
    );
    for (const { req, outcome, tokens, costNano, call } of answered) {
      const eventId = randomUUID();
      this.usageEvents
        .publish({
          eventId,
          occurredAt: call.occurredAt,
          teamId: req.teamId,
          appId: req.appId,
          runId: req.runId,
          apiKeyId: req.apiKeyId,
          requestedAlias: req.modelAlias || 'primary',
          modelAlias: outcome.alias?.alias ?? '',
          provider: outcome.alias?.provider ?? '',
          providerModel: outcome.message?.model ?? outcome.alias?.model ?? '',
          inputTokens: BigInt(tokens.inputTokens),
          outputTokens: BigInt(tokens.outputTokens),
          cacheReadInputTokens: BigInt(tokens.cacheReadInputTokens),
          cacheCreationInputTokens: BigInt(tokens.cacheCreationInputTokens),
          costUsd: nanoToUsd(costNano),
          priceTableVersion: call.priceTableVersion,
          latencyMs: call.latencyMs,
          attempts: outcome.attempts,
          fallbackUsed: outcome.fallbackUsed,
          cacheHit: outcome.cacheHit,
          streamed: call.streamed,
          outcome: outcome.error === undefined ? 'ok' : outcome.error instanceof AppError ? outcome.error.code : ErrorCode.INTERNAL,
        })
        .catch((err: unknown) => {
          this.metrics.usageEventFailures.inc();
          this.logger.error({ err, eventId }, 'could not publish a usage event');
        });
    }
  }

  private debug(kind: 'request' | 'response', req: aiV1.CompletionRequest, body: unknown): void {
    if (!this.env.AI_DEBUG) return;
    this.logger.info({ aiDebug: kind, teamId: req.teamId, runId: req.runId, body: debugJson(body) }, `model ${kind}`);
  }
}

function zeroTokens(): TokenCounts {
  return { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
}

function tokensOf(message: ChatMessage): TokenCounts {
  const u = message.usage;
  return {
    inputTokens: u.input_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    cacheReadInputTokens: u.cache_read_input_tokens ?? 0,
    cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0,
  };
}

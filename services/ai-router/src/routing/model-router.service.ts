import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { AiMetrics, BREAKER_STATE_VALUE } from '../ai-metrics';
import { AiModelsConfigService } from '../models/ai-models-config.service';
import type { AliasConfig } from '../models/ai-models.config';
import { countingAttempts, countsAgainstBreaker, isFallbackWorthy, ProviderFailure, type ChatProvider, type FailureKind } from '../providers/chat-provider';
import { ChatProvidersRegistry } from '../providers/chat-providers.registry';
import { CircuitBreaker, type BreakerState } from './circuit-breaker';

export interface RoutedResult<T> {
  result: T;
  alias: AliasConfig;
  attempts: number;
  fallbackUsed: boolean;
}

export interface BreakerSnapshot {
  model: string;
  state: BreakerState;
  consecutiveFailures: number;
  openedAt?: Date;
}

// Walks the chain (the alias asked for, then the fallback order) under one attempt budget shared
// with the SDKs' own retries, skipping models whose breaker is open.
@Injectable()
export class ModelRouterService {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly models: AiModelsConfigService,
    private readonly providers: ChatProvidersRegistry,
    private readonly metrics: AiMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    models.onChange((config) => {
      for (const breaker of this.breakers.values()) breaker.configure(config.breaker);
    });
  }

  chainFor(requested: string): AliasConfig[] {
    const config = this.models.current();
    const first = this.models.resolve(requested);
    const chain = [first];
    // After a runtime switch, the real primary stays the last resort.
    const names = (requested || 'primary') === 'primary' && first.alias !== 'primary' ? [...config.fallbackOrder, 'primary'] : config.fallbackOrder;
    for (const name of names) {
      const alias = config.aliases[name];
      if (alias && !chain.some((a) => a.provider === alias.provider && a.model === alias.model)) chain.push(alias);
    }
    return chain;
  }

  /** Runs `call` against each model of the chain until one answers. */
  async route<T>(
    requested: string,
    call: (provider: ChatProvider, alias: AliasConfig, maxAttempts: number, timeoutMs: number) => Promise<T>,
  ): Promise<RoutedResult<T>> {
    const config = this.models.current();
    const chain = this.chainFor(requested);
    let attemptsLeft = config.attempts.total;
    let attempts = 0;
    const failures: Array<{ model: string; kind: FailureKind | 'breaker_open' }> = [];
    for (const [position, alias] of chain.entries()) {
      if (attemptsLeft <= 0) break;
      const breaker = this.breakerFor(alias.model);
      if (!breaker.tryAcquire()) {
        failures.push({ model: alias.model, kind: 'breaker_open' });
        continue;
      }
      const providerConfig = config.providers[alias.provider];
      const maxAttempts = Math.min(config.attempts.perModel, attemptsLeft);
      const outcome = await countingAttempts(() => call(this.providers.get(providerConfig), alias, maxAttempts, config.attempts.timeoutMs));
      // A call that failed before any HTTP (no key configured) spends nothing.
      attempts += outcome.attempts;
      attemptsLeft -= outcome.attempts;
      this.metrics.attempts.inc({ model: alias.model }, outcome.attempts);
      if (outcome.error === undefined) {
        breaker.onSuccess();
        this.publishBreaker(alias.model, breaker);
        if (position > 0) this.metrics.fallbacks.inc({ from: chain[0].alias, to: alias.alias });
        return { result: outcome.result as T, alias, attempts, fallbackUsed: position > 0 };
      }
      const failure = outcome.error instanceof ProviderFailure ? outcome.error : new ProviderFailure('connection', 'the provider call failed');
      this.metrics.errors.inc({ model: alias.model, kind: failure.kind });
      if (countsAgainstBreaker(failure.kind)) breaker.onFailure();
      else breaker.onNeutral();
      this.publishBreaker(alias.model, breaker);
      this.logger.warn({ model: alias.model, alias: alias.alias, kind: failure.kind, attempts: outcome.attempts }, `model call failed: ${failure.message}`);
      if (!isFallbackWorthy(failure.kind)) throw new AppError(ErrorCode.AI_PROVIDER_ERROR, `The model provider rejected the request: ${failure.message}`);
      failures.push({ model: alias.model, kind: failure.kind });
    }
    const summary = failures.map((f) => `${f.model}: ${f.kind}`).join('; ') || 'no attempt budget left';
    if (failures.length > 0 && failures.every((f) => f.kind === 'context_window')) {
      throw new AppError(
        ErrorCode.AI_CONTEXT_WINDOW_EXCEEDED,
        'The conversation does not fit the context window of any configured model; shorten it or start a new one',
        { failures: summary },
      );
    }
    throw new AppError(ErrorCode.AI_ALL_MODELS_UNAVAILABLE, `No model could answer (${summary}); try again shortly`, {
      failures: summary,
      attempts: String(attempts),
    });
  }

  breakerSnapshots(): BreakerSnapshot[] {
    const config = this.models.current();
    for (const alias of Object.values(config.aliases)) if (alias.alias !== 'image') this.breakerFor(alias.model);
    return [...this.breakers.entries()].map(([model, b]) => ({ model, state: b.state, consecutiveFailures: b.consecutiveFailures, openedAt: b.openedSince }));
  }

  private breakerFor(model: string): CircuitBreaker {
    let breaker = this.breakers.get(model);
    if (!breaker) {
      breaker = new CircuitBreaker(this.models.current().breaker);
      this.breakers.set(model, breaker);
      this.publishBreaker(model, breaker);
    }
    return breaker;
  }

  private publishBreaker(model: string, breaker: CircuitBreaker): void {
    this.metrics.breakerState.set({ model }, BREAKER_STATE_VALUE[breaker.state]);
  }
}

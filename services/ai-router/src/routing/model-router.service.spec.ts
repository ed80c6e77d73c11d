import { ErrorCode } from '@overskill/contracts';
import { createServiceMetrics } from '@overskill/observability';
import pino from 'pino';
import { AiMetrics } from '../ai-metrics';
import { aiRouterEnvSchema } from '../config';
import type { AiModelsConfigService } from '../models/ai-models-config.service';
import { parseAiModelsConfig } from '../models/ai-models.config';
import { classifyHttpFailure, ProviderFailure, type ChatProvider } from '../providers/chat-provider';
import type { ChatProvidersRegistry } from '../providers/chat-providers.registry';
import { ModelRouterService } from './model-router.service';

describe('ModelRouterService', () => {
  const env = aiRouterEnvSchema.parse({ ANTHROPIC_API_KEY: 'k', OPENROUTER_API_KEY: 'o' });
  const config = parseAiModelsConfig(
    'primary_model: anthropic/claude-sonnet-4-5\nfallback_model: openrouter/kimi-k2\nmodels: { fast: "anthropic/claude-haiku-4-5" }\nfallback_order: [fallback, fast]\ncircuit_breaker: { failure_threshold: 1, open_seconds: 600 }\n',
    env,
    'spec.yml',
  );
  const metrics = new AiMetrics(createServiceMetrics('router-spec'));
  let active: string;
  let router: ModelRouterService;

  beforeEach(() => {
    active = 'primary';
    const models = {
      current: () => config,
      onChange: () => undefined,
      resolve: (name: string) => config.aliases[(name || 'primary') === 'primary' ? active : name],
    } as unknown as AiModelsConfigService;
    router = new ModelRouterService(models, { get: () => ({}) as ChatProvider } as unknown as ChatProvidersRegistry, metrics, pino({ level: 'silent' }));
  });

  it('walks the alias asked for, then the fallback order; after a switch the real primary is the last resort', () => {
    expect(router.chainFor('primary').map((a) => a.alias)).toEqual(['primary', 'fallback', 'fast']);
    expect(router.chainFor('fast').map((a) => a.alias)).toEqual(['fast', 'fallback']);
    active = 'fallback';
    expect(router.chainFor('primary').map((a) => a.alias)).toEqual(['fallback', 'fast', 'primary']);
  });

  it('falls back on overload, stops at a bad request, and skips a model whose breaker is open', async () => {
    const tried: string[] = [];
    const answer = await router.route('primary', async (_p, alias) => {
      tried.push(alias.alias);
      if (alias.alias === 'primary') throw new ProviderFailure('overloaded', 'busy', 529);
      return 'ok';
    });
    expect(answer).toMatchObject({ result: 'ok', fallbackUsed: true, alias: expect.objectContaining({ alias: 'fallback' }) });
    expect(tried).toEqual(['primary', 'fallback']);

    // Threshold 1: the primary's breaker is open now and it is not even tried.
    tried.length = 0;
    await router.route('primary', async (_p, alias) => {
      tried.push(alias.alias);
      return 'ok';
    });
    expect(tried).toEqual(['fallback']);
    expect(router.breakerSnapshots().find((b) => b.model === 'claude-sonnet-4-5')?.state).toBe('open');

    await expect(
      router.route('fast', async () => {
        throw new ProviderFailure('invalid', 'roles must alternate', 400);
      }),
    ).rejects.toMatchObject({ code: ErrorCode.AI_PROVIDER_ERROR });
  });

  it('falls back from a model the provider does not know, and its breaker then spares the round trip; a refused key does not open it', async () => {
    const tried: string[] = [];
    const call = async (_p: ChatProvider, alias: { alias: string }) => {
      tried.push(alias.alias);
      if (alias.alias === 'primary') throw classifyHttpFailure(404, 'model: claude-sonnet-4-5', false, false);
      if (alias.alias === 'fallback') throw classifyHttpFailure(401, 'invalid x-api-key', false, false);
      return 'ok';
    };
    await expect(router.route('primary', call)).resolves.toMatchObject({ result: 'ok', fallbackUsed: true, alias: expect.objectContaining({ alias: 'fast' }) });
    expect(tried).toEqual(['primary', 'fallback', 'fast']);
    const state = (model: string) => router.breakerSnapshots().find((b) => b.model === model)?.state;
    expect(state('claude-sonnet-4-5')).toBe('open');
    expect(state('kimi-k2')).toBe('closed');

    tried.length = 0;
    await router.route('primary', call);
    expect(tried).toEqual(['fallback', 'fast']);
  });
});

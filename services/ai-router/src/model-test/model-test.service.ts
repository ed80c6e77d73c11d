import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type modelTestV1, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { redactSecrets } from '../accounting/redact-secrets';
import { AiModelsConfigService } from '../models/ai-models-config.service';
import { ProviderFailure } from '../providers/chat-provider';
import { ChatProvidersRegistry } from '../providers/chat-providers.registry';

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_TIMEOUT_MS = 120_000;

type Result = Omit<modelTestV1.ModelTestResult, '$typeName' | '$unknown'>;

// The seed's `ai:test`: is each configured model reachable with the key we hold? One tiny call per
// chat alias, all at once, straight to the provider (a fallback would hide the failing one).
@Injectable()
export class ModelTestService {
  constructor(
    private readonly models: AiModelsConfigService,
    private readonly providers: ChatProvidersRegistry,
  ) {}

  async test(req: RpcRequest<typeof Rpc.aiModelTest>): Promise<RpcReply<typeof Rpc.aiModelTest>> {
    const config = this.models.current();
    const unknown = req.aliases.filter((a) => !config.aliases[a]);
    if (unknown.length > 0) {
      throw new AppError(ErrorCode.AI_MODEL_ALIAS_UNKNOWN, `unknown model alias ${unknown.join(', ')}; configured: ${Object.keys(config.aliases).join(', ')}`);
    }
    if (req.timeoutMs < 0 || req.timeoutMs > MAX_TIMEOUT_MS) throw new AppError(ErrorCode.AI_REQUEST_INVALID, `timeout_ms must be 0 to ${MAX_TIMEOUT_MS}`);
    const timeoutMs = req.timeoutMs || DEFAULT_TIMEOUT_MS;
    const asked = new Set(req.aliases.length > 0 ? req.aliases : Object.keys(config.aliases));
    const aliases = Object.values(config.aliases).filter((a) => asked.has(a.alias));
    // Every key we hold is taken out of any message a provider sends back.
    const keys = Object.values(config.providers)
      .map((p) => p.apiKey)
      .filter((k): k is string => !!k && k.length >= 6);
    const clean = (text: string) => redactSecrets(keys.reduce((t, k) => t.split(k).join('[REDACTED]'), text));

    const results = await Promise.all(
      aliases.map(async ({ alias, provider, model }): Promise<Result> => {
        const base = { alias, provider, model, ok: false, latencyMs: 0, errorKind: '', errorMessage: '', httpStatus: 0, skipped: '' };
        if (alias === 'image') return { ...base, skipped: 'image model: a test generation would be billed; see `overskill ai status`' };
        const settings = config.providers[provider];
        if (!settings) return { ...base, errorKind: 'not_configured', errorMessage: `provider ${provider} is not configured` };
        const started = performance.now();
        try {
          await this.providers.get(settings).create(model, { max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] }, { maxAttempts: 1, timeoutMs });
          return { ...base, ok: true, latencyMs: performance.now() - started };
        } catch (err) {
          const latencyMs = performance.now() - started;
          if (err instanceof ProviderFailure) return { ...base, latencyMs, errorKind: err.kind, errorMessage: clean(err.message), httpStatus: err.status ?? 0 };
          return { ...base, latencyMs, errorKind: 'unexpected', errorMessage: clean((err as Error).message ?? String(err)) };
        }
      }),
    );
    return { results };
  }
}

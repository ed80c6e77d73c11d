import Anthropic from '@anthropic-ai/sdk';
import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';

// The only code that talks to Anthropic.
@Injectable()
export class AnthropicProviderRepository {
  private readonly client?: Anthropic;

  constructor(@Inject(AI_ROUTER_ENV) env: AiRouterEnv) {
    if (env.ANTHROPIC_API_KEY) {
      this.client = new Anthropic({ apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL, timeout: env.AI_REQUEST_TIMEOUT_MS, maxRetries: env.AI_MAX_RETRIES });
    }
  }

  async createMessage(params: Anthropic.MessageCreateParamsNonStreaming): Promise<Anthropic.Message> {
    if (!this.client) throw new AppError(ErrorCode.AI_NOT_CONFIGURED, 'No model provider is configured: set ANTHROPIC_API_KEY for ai-router');
    try {
      return await this.client.messages.create(params);
    } catch (err) {
      throw providerError(err);
    }
  }
}

function providerError(err: unknown): AppError {
  if (err instanceof Anthropic.APIConnectionTimeoutError) return new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'The model provider timed out');
  if (err instanceof Anthropic.APIConnectionError) return new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'The model provider could not be reached');
  if (err instanceof Anthropic.APIError) {
    const status = err.status ?? 0;
    if (status === 429) return new AppError(ErrorCode.AI_RATE_LIMITED, 'The model provider is rate limiting requests; try again shortly');
    if (status === 529 || status >= 500) return new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, `The model provider is overloaded or failing (HTTP ${status})`);
    return new AppError(ErrorCode.AI_PROVIDER_ERROR, `The model provider rejected the request (HTTP ${status})`);
  }
  return new AppError(ErrorCode.AI_PROVIDER_ERROR, 'The model call failed');
}

import { Injectable } from '@nestjs/common';
import type { ProviderConfig } from '../models/ai-models.config';
import { AnthropicProviderRepository } from './anthropic-provider.repository';
import type { ChatProvider } from './chat-provider';
import { OpenAiProviderRepository } from './openai-provider.repository';

// One SDK client per configured provider, rebuilt only when its settings change (hot reload).
@Injectable()
export class ChatProvidersRegistry {
  private readonly clients = new Map<string, { fingerprint: string; provider: ChatProvider }>();

  get(config: ProviderConfig): ChatProvider {
    const fingerprint = `${config.type}|${config.baseUrl ?? ''}|${config.apiKey ?? ''}`;
    const cached = this.clients.get(config.name);
    if (cached?.fingerprint === fingerprint) return cached.provider;
    const provider = config.type === 'anthropic' ? new AnthropicProviderRepository(config) : new OpenAiProviderRepository(config);
    this.clients.set(config.name, { fingerprint, provider });
    return provider;
  }
}

import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing, tracesExported, type TracingHandle } from '@overskill/observability';
import { AnthropicFake } from '@overskill/testing';
import { AnthropicProviderRepository } from './anthropic-provider.repository';
import type { ChatParams } from './chat-provider';

// The SDK's own span of each call: made where this process exports spans, not made elsewhere
// (nobody would read it), and always when asked for.
describe('AnthropicProviderRepository spans', () => {
  const fake = new AnthropicFake({ apiKey: 'sk-ant-test' });
  const exported = new InMemorySpanExporter();
  let tracing: TracingHandle;
  let baseUrl: string;
  const params: ChatParams = { max_tokens: 64, messages: [{ role: 'user', content: 'Say ok' }] };
  const options = { maxAttempts: 1, timeoutMs: 5000 };
  const provider = (spans?: boolean) => new AnthropicProviderRepository({ name: 'anthropic', type: 'anthropic', baseUrl, apiKey: 'sk-ant-test' }, spans);
  const sdkSpans = async () => {
    await tracing.forceFlush();
    return exported.getFinishedSpans().filter((s) => s.instrumentationScope.name.includes('anthropic'));
  };

  beforeAll(async () => {
    tracing = startTracing({ service: 'ai-router-spec', spanExporter: exported });
    baseUrl = await fake.start();
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    exported.reset();
    fake.reset();
    fake.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }] }));
  });

  it('makes the SDK span where spans are exported', async () => {
    expect(tracesExported()).toBe(true);
    await provider().create('claude-sonnet-4-6', params, options);
    expect((await sdkSpans()).map((s) => s.attributes['gen_ai.request.model'])).toEqual(['claude-sonnet-4-6']);
  });

  it('makes none when told not to, and the call is the same', async () => {
    const message = await provider(false).create('claude-sonnet-4-6', params, options);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'ok' })]);
    expect(fake.requests).toHaveLength(1);
    expect(await sdkSpans()).toEqual([]);
  });
});

import { OpenAiChatFake } from '@overskill/testing';
import { accumulateStream } from '../completion/stream-accumulator';
import { countingAttempts, ProviderFailure, type ChatParams, type ChatStreamEvent } from './chat-provider';
import { OpenAiProviderRepository } from './openai-provider.repository';

// The real `openai` SDK against the loopback fake: translation both ways, streaming, failures.
describe('OpenAiProviderRepository', () => {
  const fake = new OpenAiChatFake({ apiKey: 'or-key' });
  let provider: OpenAiProviderRepository;
  const options = { maxAttempts: 1, timeoutMs: 5000 };

  // An agent turn: a tool was called and answered, and the user asks on.
  const params: ChatParams = {
    max_tokens: 256,
    temperature: 0,
    system: [{ type: 'text', text: 'You build web apps.', cache_control: { type: 'ephemeral' } }],
    tools: [{ name: 'write_file', description: 'Write a file', input_schema: { type: 'object', properties: { path: { type: 'string' } } } }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Make a page' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Writing it.' },
          { type: 'tool_use', id: 'toolu_1', name: 'write_file', input: { path: 'a.html' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'written' },
          { type: 'text', text: 'Now style it' },
        ],
      },
    ],
  };

  beforeAll(async () => {
    const baseUrl = await fake.start();
    provider = new OpenAiProviderRepository({ name: 'openrouter', type: 'openai', baseUrl, apiKey: 'or-key' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('translates an Anthropic-shaped turn to chat completions and the answer back, tool calls included', async () => {
    fake.script({
      content: 'Styling.',
      toolCalls: [{ id: 'call_9', name: 'write_file', arguments: { path: 'style.css' } }],
      usage: { prompt_tokens: 120, completion_tokens: 30, cached_tokens: 20 },
    });
    const message = await provider.create('moonshotai/kimi-k2', params, options);

    const sent = fake.requests[0].body;
    expect(sent.model).toBe('moonshotai/kimi-k2');
    expect(sent.messages).toEqual([
      { role: 'system', content: 'You build web apps.' },
      { role: 'user', content: 'Make a page' },
      {
        role: 'assistant',
        content: 'Writing it.',
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'write_file', arguments: '{"path":"a.html"}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'written' },
      { role: 'user', content: 'Now style it' },
    ]);
    expect(sent.tools).toEqual([
      {
        type: 'function',
        function: { name: 'write_file', description: 'Write a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
      },
    ]);
    expect(sent.temperature).toBe(0);

    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Styling.' }),
      { type: 'tool_use', id: 'call_9', name: 'write_file', input: { path: 'style.css' } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 20, output_tokens: 30 });
  });

  it('streams chat chunks as the Anthropic event sequence, with usage from the last chunk', async () => {
    fake.script({
      content: 'Hello there',
      toolCalls: [{ id: 'call_2', name: 'write_file', arguments: { path: 'b.html' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    });
    const events: ChatStreamEvent[] = [];
    const message = await accumulateStream(await provider.stream('kimi-k2', params, options), (e) => events.push(e));
    expect(fake.requests[0].body.stream_options).toEqual({ include_usage: true });
    expect(events[0].type).toBe('message_start');
    expect(events.at(-1)?.type).toBe('message_stop');
    expect(events.map((e) => e.type)).toContain('content_block_delta');
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Hello there' }),
      { type: 'tool_use', id: 'call_2', name: 'write_file', input: { path: 'b.html' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 50, output_tokens: 12 });
  });

  it('classifies a context-length error and counts the SDK’s retries of a 503 as attempts', async () => {
    fake.failNext({ contextLengthExceeded: true });
    const tooLong = await countingAttempts(() => provider.create('kimi-k2', params, options));
    expect(tooLong.error).toBeInstanceOf(ProviderFailure);
    expect((tooLong.error as ProviderFailure).kind).toBe('context_window');
    expect(tooLong.attempts).toBe(1);

    fake.failNext({ status: 503 }, 2);
    fake.script({ content: 'finally' });
    const retried = await countingAttempts(() => provider.create('kimi-k2', params, { maxAttempts: 3, timeoutMs: 5000 }));
    expect(retried.error).toBeUndefined();
    expect(retried.attempts).toBe(3);
    expect(fake.requests).toHaveLength(4);
  });

  it('never sends more attempts than allowed: 429 twice with two attempts is a rate_limited failure', async () => {
    fake.failNext({ status: 429 }, 2);
    const outcome = await countingAttempts(() => provider.create('kimi-k2', params, { maxAttempts: 2, timeoutMs: 5000 }));
    expect((outcome.error as ProviderFailure).kind).toBe('rate_limited');
    expect(outcome.attempts).toBe(2);
    expect(fake.requests).toHaveLength(2);
  });
});

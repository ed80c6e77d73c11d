import Anthropic, {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { AnthropicFake } from './anthropic-fake';
import { anthropicId } from './anthropic-messages-wire';

const API_KEY = 'sk-ant-test-key';
const MODEL = 'claude-sonnet-4-6';

const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('AnthropicFake', () => {
  let fake: AnthropicFake;
  let baseURL: string;

  const client = (options: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}): Anthropic =>
    new Anthropic({ apiKey: API_KEY, baseURL, maxRetries: 0, ...options });

  const ask = (anthropic: Anthropic, text: string): Promise<Anthropic.Message> =>
    anthropic.messages.create({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: text }] });

  beforeEach(async () => {
    fake = new AnthropicFake({ apiKey: API_KEY });
    baseURL = await fake.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('answers a non-streaming request with the exact Messages response shape', async () => {
    fake.script({ content: [{ type: 'text', text: 'Hello from the fake' }] });

    const {
      data: message,
      request_id: requestId,
      response,
    } = await client()
      .messages.create({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();

    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: 'Hello from the fake' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    expect(message.id).toMatch(/^msg_01[0-9A-Za-z]{22}$/);
    expect(requestId).toMatch(/^req_01/);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ stream: false, body: { model: MODEL, max_tokens: 1024 } });
    expect(fake.requests[0].headers['anthropic-version']).toBe('2023-06-01');
    expect(fake.requests[0].headers['x-api-key']).toBe(API_KEY);
  });

  it('derives token counts deterministically from request and response sizes', async () => {
    const turn = { content: [{ type: 'text' as const, text: 'same answer' }] };
    fake.script(turn, turn, { content: [{ type: 'text', text: 'a much longer answer '.repeat(20) }] });
    const anthropic = client();

    const first = await ask(anthropic, 'same question');
    const second = await ask(anthropic, 'same question');
    const longer = await ask(anthropic, 'same question'.repeat(50));

    expect(second.usage).toEqual(first.usage);
    expect(longer.usage.input_tokens).toBeGreaterThan(first.usage.input_tokens);
    expect(longer.usage.output_tokens).toBeGreaterThan(first.usage.output_tokens);
  });

  it('runs a tool_use round trip and records the tool_result the client sends back', async () => {
    fake.script(
      {
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      { content: [{ type: 'text', text: 'It is sunny in Paris.' }] },
    );
    const anthropic = client();
    const question: Anthropic.MessageParam = { role: 'user', content: 'Weather in Paris?' };

    const first = await anthropic.messages.create({ model: MODEL, max_tokens: 1024, tools: [WEATHER_TOOL], messages: [question] });
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    expect(toolUse!.id).toMatch(/^toolu_01/);

    const second = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools: [WEATHER_TOOL],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: '22°C, sunny' }] },
      ],
    });

    expect(second).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: 'It is sunny in Paris.' }] });
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1].body.messages[2].content[0]).toEqual({
      type: 'tool_result',
      tool_use_id: toolUse!.id,
      content: '22°C, sunny',
    });
  });

  it('keeps a scripted tool_use id and stop_reason', async () => {
    fake.script({ content: [{ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input: {} }], stop_reason: 'max_tokens' });

    const message = await ask(client(), 'go');

    expect(message.content).toEqual([{ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input: {} }]);
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('streams the real SSE event sequence and finalMessage() equals the scripted content', async () => {
    fake.script({
      content: [
        { type: 'text', text: "I'll write the file now, with ünïcödé and emoji 🚀." },
        { type: 'tool_use', id: 'toolu_stream', name: 'write_file', input: { path: 'index.html', content: '<h1>Hi</h1>\n', mode: 420 } },
      ],
    });
    const anthropic = client();
    const stream = anthropic.messages.stream({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'build' }] });
    const textDeltas: string[] = [];
    const eventTypes: string[] = [];
    stream.on('text', (delta) => textDeltas.push(delta));
    stream.on('streamEvent', (event) => eventTypes.push(event.type));

    const message = await stream.finalMessage();

    expect(message.content).toEqual([
      { type: 'text', text: "I'll write the file now, with ünïcödé and emoji 🚀." },
      { type: 'tool_use', id: 'toolu_stream', name: 'write_file', input: { path: 'index.html', content: '<h1>Hi</h1>\n', mode: 420 } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.id).toMatch(/^msg_/);
    expect(textDeltas.length).toBeGreaterThan(1);
    expect(textDeltas.join('')).toBe("I'll write the file now, with ünïcödé and emoji 🚀.");
    expect(eventTypes[0]).toBe('message_start');
    expect(eventTypes.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(eventTypes.filter((type) => type === 'content_block_start')).toHaveLength(2);
    expect(eventTypes.filter((type) => type === 'content_block_stop')).toHaveLength(2);
    expect(fake.requests[0].stream).toBe(true);
  });

  it('sends a ping and text/event-stream over the wire', async () => {
    fake.script({ content: [{ type: 'text', text: 'pong' }] });

    const response = await fetch(`${baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'ping' }] }),
    });
    const body = await response.text();

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const events = [...body.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
    expect(events[0]).toBe('message_start');
    expect(events).toContain('ping');
    expect(body).toContain('"type":"text_delta"');
  });

  it('passes cache token usage through, both as JSON and streamed', async () => {
    const usage = { input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 1200, cache_creation_input_tokens: 300 };
    fake.script({ content: [{ type: 'text', text: 'cached' }], usage }, { content: [{ type: 'text', text: 'cached' }], usage });
    const anthropic = client();

    const message = await ask(anthropic, 'hi');
    const streamed = await anthropic.messages.stream({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();

    expect(message.usage).toMatchObject(usage);
    expect(streamed.usage).toMatchObject(usage);
  });

  it('retries a 529 overloaded_error and succeeds with maxRetries: 1', async () => {
    fake.failNext({ status: 529 }).script({ content: [{ type: 'text', text: 'after overload' }] });

    const message = await ask(client({ maxRetries: 1 }), 'hi');

    expect(message.content).toEqual([{ type: 'text', text: 'after overload' }]);
    expect(fake.requests).toHaveLength(2);
  });

  it('answers injected failures in the real error shape', async () => {
    fake.failNext({ status: 529 }).failNext({ status: 500, message: 'boom' });
    const anthropic = client();

    const overloaded = await ask(anthropic, 'hi').catch((error: unknown) => error);
    const internal = await ask(anthropic, 'hi').catch((error: unknown) => error);

    expect(overloaded).toBeInstanceOf(InternalServerError);
    expect((overloaded as InternalServerError).status).toBe(529);
    expect((overloaded as InternalServerError).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect((overloaded as InternalServerError).requestID).toMatch(/^req_/);
    expect((internal as InternalServerError).error).toMatchObject({ error: { type: 'api_error', message: 'boom' } });
  });

  it('sends retry-after with a 429, and the SDK waits that long before retrying', async () => {
    fake.failNext({ status: 429, retryAfterSeconds: 1 }).script({ content: [{ type: 'text', text: 'ok' }] });

    const rejected = await ask(client(), 'hi').catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(RateLimitError);
    expect((rejected as RateLimitError).headers?.get('retry-after')).toBe('1');
    expect((rejected as RateLimitError).error).toMatchObject({ error: { type: 'rate_limit_error' } });

    fake.failNext({ status: 429, retryAfterSeconds: 1 });
    const startedAt = Date.now();
    const message = await ask(client({ maxRetries: 1 }), 'hi');
    expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    const retryGap = fake.requests[2].receivedAt - fake.requests[1].receivedAt;
    expect(retryGap).toBeGreaterThanOrEqual(950);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
  });

  it('fails times: N requests in a row', async () => {
    fake.failNext({ status: 503 }, 2).script({ content: [{ type: 'text', text: 'third time lucky' }] });
    const anthropic = client();

    await expect(ask(anthropic, 'hi')).rejects.toBeInstanceOf(InternalServerError);
    await expect(ask(anthropic, 'hi')).rejects.toBeInstanceOf(InternalServerError);
    await expect(ask(anthropic, 'hi')).resolves.toMatchObject({ content: [{ text: 'third time lucky' }] });
  });

  it('rejects a wrong API key with 401 authentication_error and still records the request', async () => {
    fake.script({ content: [{ type: 'text', text: 'never sent' }] });

    const rejected = await ask(client({ apiKey: 'sk-ant-wrong' }), 'hi').catch((error: unknown) => error);

    expect(rejected).toBeInstanceOf(AuthenticationError);
    expect((rejected as AuthenticationError).error).toMatchObject({ error: { type: 'authentication_error' } });
    expect(fake.requests).toHaveLength(1);
    // The scripted turn was not consumed by the rejected request.
    await expect(ask(client(), 'hi')).resolves.toMatchObject({ content: [{ text: 'never sent' }] });
  });

  it('refuses a retired model with 404 not_found_error, as the real API does, without using the script', async () => {
    fake.script({ content: [{ type: 'text', text: 'for a live model' }] });
    const retired = { model: 'claude-sonnet-4-20250514', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };

    const rejected = await client()
      .messages.create(retired)
      .catch((error: unknown) => error);

    expect(rejected).toBeInstanceOf(NotFoundError);
    expect((rejected as NotFoundError).error).toMatchObject({ error: { type: 'not_found_error', message: 'model: claude-sonnet-4-20250514' } });
    await expect(ask(client(), 'hi')).resolves.toMatchObject({ content: [{ text: 'for a live model' }] });
  });

  it('makes the SDK time out on a hang, then serves the next request', async () => {
    fake.failNext({ hangMs: 10_000 }).script({ content: [{ type: 'text', text: 'back again' }] });

    const startedAt = Date.now();
    await expect(ask(client({ timeout: 200 }), 'hi')).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - startedAt).toBeLessThan(5000);

    await expect(ask(client(), 'hi')).resolves.toMatchObject({ content: [{ text: 'back again' }] });
    expect(fake.requests).toHaveLength(2);
  });

  it('stops promptly while a request is hanging', async () => {
    fake.failNext({ hangMs: 60_000 });
    const pending = ask(client({ timeout: 60_000 }), 'hi').catch((error: unknown) => error);
    await waitFor(() => fake.requests.length === 1);

    const startedAt = Date.now();
    await fake.stop();

    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('delays a turn by delayMs', async () => {
    fake.script({ content: [{ type: 'text', text: 'slow' }], delayMs: 300 });

    const startedAt = Date.now();
    await ask(client(), 'hi');

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it('falls back to the responder once the script is used up', async () => {
    fake
      .script({ content: [{ type: 'text', text: 'scripted' }] })
      .respondWith((request) => ({ content: [{ type: 'text', text: `echo: ${request.body.messages[0].content}` }], model: 'claude-echo' }));
    const anthropic = client();

    const first = await ask(anthropic, 'one');
    const second = await ask(anthropic, 'two');

    expect(first.content).toEqual([{ type: 'text', text: 'scripted' }]);
    expect(second).toMatchObject({ model: 'claude-echo', content: [{ type: 'text', text: 'echo: two' }] });
  });

  it('answers 500 with a clear message when nothing is scripted', async () => {
    const rejected = await ask(client(), 'hi').catch((error: unknown) => error);

    expect(rejected).toBeInstanceOf(InternalServerError);
    expect((rejected as InternalServerError).message).toContain('no scripted turn left');
  });

  it('reset() forgets requests, script, failures and responder', async () => {
    fake
      .script({ content: [{ type: 'text', text: 'a' }] })
      .failNext({ status: 529 })
      .respondWith(() => ({ content: [] }));
    await ask(client(), 'hi').catch(() => undefined);

    fake.reset();

    expect(fake.requests).toHaveLength(0);
    expect(fake.received).toBe(0);
    await expect(ask(client(), 'hi')).rejects.toBeInstanceOf(InternalServerError);
    expect(fake.requests).toHaveLength(1);
    expect(fake.received).toBe(1);
  });

  it('keeps only the last keepRequests requests and still counts every one', async () => {
    const bounded = new AnthropicFake({ apiKey: API_KEY, keepRequests: 2 });
    const anthropic = new Anthropic({ apiKey: API_KEY, baseURL: await bounded.start(), maxRetries: 0 });
    try {
      bounded.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }] }));
      for (const text of ['one', 'two', 'three']) await ask(anthropic, text);

      expect(bounded.received).toBe(3);
      expect(bounded.requests.map((r) => r.body.messages[0].content)).toEqual(['two', 'three']);
    } finally {
      await bounded.stop();
    }
  });

  it('makes ids in the real format, none twice, across refills of its random pool', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => anthropicId(i % 2 ? 'toolu' : 'msg'));
    for (const id of ids) expect(id).toMatch(/^(msg|toolu)_01[0-9A-Za-z]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses a negative keepRequests', () => {
    expect(() => new AnthropicFake({ keepRequests: -1 })).toThrow('keepRequests must be 0 or more');
  });

  describe('request validation', () => {
    const post = (body: unknown, headers: Record<string, string> = { 'anthropic-version': '2023-06-01' }): Promise<Response> =>
      fetch(`${baseURL}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });

    it.each([
      [{ max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, 'model: Field required'],
      [{ model: MODEL, messages: [{ role: 'user', content: 'x' }] }, 'max_tokens: Field required'],
      [{ model: MODEL, max_tokens: 10 }, 'messages: Field required'],
      [{ model: MODEL, max_tokens: 0, messages: [{ role: 'user', content: 'x' }] }, 'max_tokens'],
      [{ model: MODEL, max_tokens: 10, messages: [] }, 'at least one message'],
      [{ model: MODEL, max_tokens: 10, messages: [{ role: 'system', content: 'x' }] }, 'messages.0.role'],
      [{ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }, 'non-empty'],
      [
        { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'bad name!', input_schema: { type: 'object' } }] },
        'tools.0.name',
      ],
      ['{not json', 'error parsing the body'],
    ])('rejects %j with 400 invalid_request_error', async (body, message) => {
      fake.script({ content: [{ type: 'text', text: 'unused' }] });

      const response = await post(body);

      expect(response.status).toBe(400);
      const error = (await response.json()) as { error: { message: string } };
      expect(error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(error.error.message).toContain(message);
    });

    it('requires the anthropic-version header', async () => {
      const response = await post({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, {});

      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('anthropic-version');
    });

    it('catches a tool_use left without its tool_result, as the real API does', async () => {
      const rejected = await client()
        .messages.create({
          model: MODEL,
          max_tokens: 10,
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} }] },
            { role: 'user', content: 'forgot the result' },
          ],
        })
        .catch((error: unknown) => error);

      expect(rejected).toBeInstanceOf(BadRequestError);
      expect((rejected as BadRequestError).message).toContain('`tool_use` ids were found without `tool_result` blocks');
      expect((rejected as BadRequestError).message).toContain('toolu_a');
    });

    it('catches a tool_result that answers no tool_use', async () => {
      const rejected = await client()
        .messages.create({
          model: MODEL,
          max_tokens: 10,
          messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_ghost', content: 'x' }] }],
        })
        .catch((error: unknown) => error);

      expect(rejected).toBeInstanceOf(BadRequestError);
      expect((rejected as BadRequestError).message).toContain('unexpected `tool_use_id`');
    });
  });

  it('serves /health, /v1/models and count_tokens', async () => {
    const health = await fetch(`${baseURL}/health`);
    expect(health.status).toBe(200);

    const models = await client().models.list();
    expect(models.data.map((model) => model.id)).toContain(MODEL);

    const count = await client().messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'count me' }] });
    expect(count.input_tokens).toBeGreaterThan(0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

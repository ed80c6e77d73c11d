import { AnthropicFake } from '@overskill/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { accumulateStream } from '../completion/stream-accumulator';
import { AnthropicProviderRepository } from './anthropic-provider.repository';
import { countingAttempts, ProviderFailure, type ChatParams, type ChatStreamEvent } from './chat-provider';
import { serverSentEvents } from './server-sent-events';

// Our HTTP client for the Messages API against the loopback fake: answers, streams, the retry
// policy and its attempt count, and every way a provider call can go wrong.
describe('AnthropicProviderRepository', () => {
  const fake = new AnthropicFake({ apiKey: 'sk-ant-test' });
  let baseUrl: string;
  let provider: AnthropicProviderRepository;
  const options = { maxAttempts: 1, timeoutMs: 5000 };
  const params: ChatParams = { max_tokens: 64, messages: [{ role: 'user', content: 'Say ok' }] };

  const failureOf = async (call: () => Promise<unknown>): Promise<ProviderFailure> => {
    const outcome = await countingAttempts(call);
    expect(outcome.error).toBeInstanceOf(ProviderFailure);
    return Object.assign(outcome.error as ProviderFailure, { attempts: outcome.attempts });
  };

  beforeAll(async () => {
    baseUrl = await fake.start();
    provider = new AnthropicProviderRepository({ name: 'anthropic', type: 'anthropic', baseUrl, apiKey: 'sk-ant-test' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('sends the Messages API request once serialised, with the key and version headers, and returns the message', async () => {
    fake.script({ content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 12, output_tokens: 2 } });
    const { result, attempts } = await countingAttempts(() => provider.create('claude-sonnet-4-6', { ...params, temperature: 0 }, options));
    expect(attempts).toBe(1);
    expect(result?.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(result?.usage).toMatchObject({ input_tokens: 12, output_tokens: 2 });
    expect(fake.requests[0]!.body).toEqual({ ...params, temperature: 0, model: 'claude-sonnet-4-6', stream: false });
    expect(fake.requests[0]!.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
  });

  it('reuses one keep-alive connection for calls in a row', async () => {
    const sockets = new Set<string>();
    const server: Server = createServer((req, res) => {
      sockets.add(`${req.socket.remotePort}`);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'message', content: [], usage: {} })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const local = new AnthropicProviderRepository({
      name: 'local',
      type: 'anthropic',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      apiKey: 'k',
    });
    for (let i = 0; i < 5; i++) await local.create('m', params, options);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect(sockets.size).toBe(1);
  });

  it('retries an overloaded provider within the attempts it is given, counting each attempt', async () => {
    fake.failNext({ status: 529 }, 1);
    fake.script({ content: [{ type: 'text', text: 'after a retry' }] });
    const { result, attempts } = await countingAttempts(() => provider.create('claude-sonnet-4-6', params, { maxAttempts: 2, timeoutMs: 5000 }));
    expect(result?.content).toEqual([{ type: 'text', text: 'after a retry' }]);
    expect(attempts).toBe(2);
    expect(fake.requests).toHaveLength(2);
  });

  it('stops at the attempt budget: 529 twice with two attempts is an overload failure after exactly two requests', async () => {
    fake.failNext({ status: 529 }, 3);
    const failure = await failureOf(() => provider.create('claude-sonnet-4-6', params, { maxAttempts: 2, timeoutMs: 5000 }));
    expect(failure.kind).toBe('overloaded');
    expect(fake.requests).toHaveLength(2);
  });

  it('honours retry-after on a 429', async () => {
    fake.failNext({ status: 429, retryAfterSeconds: 0.05 }, 1);
    fake.script({ content: [{ type: 'text', text: 'ok' }] });
    const { result, attempts } = await countingAttempts(() => provider.create('claude-sonnet-4-6', params, { maxAttempts: 2, timeoutMs: 5000 }));
    expect(result?.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(attempts).toBe(2);
    expect(fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt).toBeGreaterThanOrEqual(40);
  });

  it('does not retry a plain 400 and keeps the provider’s words; a too-long prompt is a context-window failure', async () => {
    fake.failNext({ status: 400, message: 'max_tokens: must be positive' }, 1);
    const invalid = await failureOf(() => provider.create('claude-sonnet-4-6', params, { maxAttempts: 3, timeoutMs: 5000 }));
    expect(invalid).toMatchObject({ kind: 'invalid', status: 400 });
    expect(invalid.message).toContain('max_tokens: must be positive');
    expect(fake.requests).toHaveLength(1);

    fake.failNext({ status: 400, message: 'prompt is too long: 210000 tokens > 200000 maximum' }, 1);
    expect((await failureOf(() => provider.create('claude-sonnet-4-6', params, options))).kind).toBe('context_window');
  });

  it('a refused key is an auth failure, a missing key makes no request', async () => {
    const wrongKey = new AnthropicProviderRepository({ name: 'anthropic', type: 'anthropic', baseUrl, apiKey: 'sk-ant-wrong' });
    expect((await failureOf(() => wrongKey.create('claude-sonnet-4-6', params, options))).kind).toBe('auth');
    const noKey = new AnthropicProviderRepository({ name: 'anthropic', type: 'anthropic', baseUrl });
    const failure = await failureOf(() => noKey.create('claude-sonnet-4-6', params, options));
    expect(failure.kind).toBe('not_configured');
    expect(fake.requests).toHaveLength(1);
  });

  it('times out a provider that does not answer, and fails on one that cannot be reached', async () => {
    fake.failNext({ hangMs: 2000 }, 1);
    const timedOut = await failureOf(() => provider.create('claude-sonnet-4-6', params, { maxAttempts: 1, timeoutMs: 100 }));
    expect(timedOut.kind).toBe('timeout');

    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const unreachable = new AnthropicProviderRepository({ name: 'gone', type: 'anthropic', baseUrl: `http://127.0.0.1:${port}`, apiKey: 'k' });
    const failure = await failureOf(() => unreachable.create('m', params, { maxAttempts: 2, timeoutMs: 5000 }));
    expect(failure).toMatchObject({ kind: 'connection', attempts: 2 });
  });

  it('a 200 whose body is not JSON is a server failure, not a crash', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>proxy error</html>'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const local = new AnthropicProviderRepository({
      name: 'local',
      type: 'anthropic',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      apiKey: 'k',
    });
    const failure = await failureOf(() => local.create('m', params, options));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect(failure.kind).toBe('server');
  });

  it('streams the Anthropic event sequence, pings skipped, and it accumulates into the message', async () => {
    fake.script({ content: [{ type: 'text', text: 'streamed ok' }], usage: { input_tokens: 5, output_tokens: 3 } });
    const events: ChatStreamEvent[] = [];
    const stream = await provider.stream('claude-sonnet-4-6', params, options);
    const message = await accumulateStream(stream, (event) => events.push(event));
    expect(fake.requests[0]!.body.stream).toBe(true);
    expect(events[0]!.type).toBe('message_start');
    expect(events.at(-1)!.type).toBe('message_stop');
    expect(events.some((e) => (e.type as string) === 'ping')).toBe(false);
    expect(message.content).toMatchObject([{ type: 'text', text: 'streamed ok' }]);
  });

  it('a failure before the stream starts can still fall back: it rejects the call itself', async () => {
    fake.failNext({ status: 529 }, 1);
    const failure = await failureOf(() => provider.stream('claude-sonnet-4-6', params, options));
    expect(failure.kind).toBe('overloaded');
  });
});

describe('serverSentEvents', () => {
  const eventsOf = async (chunks: Buffer[]) => {
    const out = [];
    for await (const e of serverSentEvents(Readable.from(chunks))) out.push(e);
    return out;
  };

  it('parses events split anywhere, CRLF lines, comments and multi-line data, and a character split across chunks', async () => {
    const text = ': comment\r\nevent: content_block_delta\r\ndata: {"text":"é"}\r\n\r\nevent: ping\ndata: {}\n\ndata: a\ndata: b\n\n';
    const bytes = Buffer.from(text, 'utf8');
    const split = bytes.indexOf(Buffer.from('é')) + 1;
    const events = await eventsOf([bytes.subarray(0, 7), bytes.subarray(7, split), bytes.subarray(split)]);
    expect(events).toEqual([
      { event: 'content_block_delta', data: '{"text":"é"}' },
      { event: 'ping', data: '{}' },
      { event: 'message', data: 'a\nb' },
    ]);
  });

  it('drops an event the body cut off before its blank line, and yields nothing for a body without data', async () => {
    expect(await eventsOf([Buffer.from('event: message_stop\ndata: {"type":"message_stop"}')])).toEqual([]);
    expect(await eventsOf([Buffer.from(': keep-alive\n\nevent: x\n\n')])).toEqual([]);
  });
});

import { AnthropicFake } from '@overskill/testing';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentFetch } from './agent-fetch';
import { AnthropicProviderRepository } from './anthropic-provider.repository';
import { countingAttempts, ProviderFailure, type ChatParams, type ChatStreamEvent } from './chat-provider';

// The SDK's transport against the loopback fake (and, where the fake cannot hold a response
// half-written, a bare server): socket reuse, streaming, abort, unreachable, timeout.
describe('agentFetch', () => {
  const fake = new AnthropicFake({ apiKey: 'sk-ant-test' });
  let baseUrl: string;
  let provider: AnthropicProviderRepository;
  const params: ChatParams = { max_tokens: 64, messages: [{ role: 'user', content: 'Say ok' }] };
  const options = { maxAttempts: 1, timeoutMs: 5000 };

  beforeAll(async () => {
    baseUrl = await fake.start();
    provider = new AnthropicProviderRepository({ name: 'anthropic', type: 'anthropic', baseUrl, apiKey: 'sk-ant-test' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  const listen = async (handler: (res: ServerResponse) => void): Promise<{ server: Server; url: string; ports: Set<number> }> => {
    const ports = new Set<number>();
    const server = createServer((req, res) => {
      ports.add(req.socket.remotePort!);
      req.resume();
      req.on('end', () => handler(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ports };
  };
  const close = (server: Server): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  it('carries the SDK call: body and headers as given, the message back, one attempt counted', async () => {
    fake.script({ content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 12, output_tokens: 2 } });
    const { result, attempts } = await countingAttempts(() => provider.create('claude-sonnet-4-6', params, options));
    expect(attempts).toBe(1);
    expect(result?.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(fake.requests[0]!.body).toEqual({ ...params, model: 'claude-sonnet-4-6', stream: false });
    expect(fake.requests[0]!.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
  });

  it('streams the SDK events from the fake', async () => {
    fake.script({ content: [{ type: 'text', text: 'streamed answer' }] });
    const events: ChatStreamEvent[] = [];
    for await (const event of await provider.stream('claude-sonnet-4-6', params, options)) events.push(event);
    expect(events[0]!.type).toBe('message_start');
    expect(events.at(-1)!.type).toBe('message_stop');
    const text = events.map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : '')).join('');
    expect(text).toBe('streamed answer');
  });

  it('answers a read body the way fetch does: status, headers, json, text, bytes, a clone, no stream left', async () => {
    const body = JSON.stringify({ ok: true, text: 'héllo' });
    const answers = [body, '{not json'];
    const { server, url } = await listen((res) => res.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-extra': 'a' }).end(answers.shift()));
    try {
      const response = await agentFetch(`${url}/v1/x`, { method: 'POST', body: '{}' });
      expect([response.status, response.statusText, response.ok]).toEqual([201, 'Made', true]);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('x-extra')).toBe('a');
      expect(response.body).toBeNull();
      const copy = response.clone();
      expect(await response.json()).toEqual({ ok: true, text: 'héllo' });
      expect(await response.text()).toBe(body);
      expect(Buffer.from(await response.arrayBuffer()).toString('utf8')).toBe(body);
      expect(await (await response.blob()).text()).toBe(body);
      expect([copy.status, await copy.text()]).toEqual([201, body]);
      const broken = await agentFetch(url, { method: 'GET' });
      await expect(broken.clone().json()).rejects.toThrow(SyntaxError);
    } finally {
      await close(server);
    }
  });

  it('turns the fake’s error answers into the SDK’s error classes', async () => {
    fake.failNext({ status: 529 });
    const outcome = await countingAttempts(() => provider.create('claude-sonnet-4-6', params, options));
    expect(outcome.error).toMatchObject({ kind: 'overloaded', status: 529 });
  });

  it('reuses keep-alive sockets for calls in a row', async () => {
    const { server, url, ports } = await listen((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    const call = async (): Promise<void> => {
      const response = await agentFetch(`${url}/v1/messages`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(await response.json()).toEqual({ ok: true });
    };
    try {
      // undici takes a connection back one turn of the event loop after its answer (a server may
      // close one it said it would keep): a call made at once takes the other, and they alternate.
      for (let i = 0; i < 10; i++) await call();
      expect(ports.size).toBe(2);
      ports.clear();
      for (let i = 0; i < 5; i++) {
        await call();
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(ports.size).toBe(1);
    } finally {
      await close(server);
    }
  });

  it('hands out stream chunks before the response ends', async () => {
    let finish: (() => void) | undefined;
    const { server, url } = await listen((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {"type":"ping"}\n\n');
      finish = () => res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    });
    try {
      const response = await agentFetch(`${url}/v1/messages`, { method: 'POST', body: '{}' });
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('ping');
      expect(finish).toBeDefined();
      finish!();
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
      expect(rest).toContain('message_stop');
    } finally {
      await close(server);
    }
  });

  it('a slow reader pauses a long stream and gets all of it, in order', async () => {
    const { server, url } = await listen((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 400; i++) res.write(`data: ${String(i).padStart(4, '0')}${'x'.repeat(1000)}\n\n`);
      res.end();
    });
    try {
      const response = await agentFetch(`${url}/`, { method: 'POST', body: '{}' });
      const reader = response.body!.getReader();
      let text = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += new TextDecoder().decode(chunk.value);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const numbers = [...text.matchAll(/data: (\d{4})/g)].map((m) => Number(m[1]));
      expect(numbers).toEqual(Array.from({ length: 400 }, (_, i) => i));
    } finally {
      await close(server);
    }
  });

  it('rejects with an AbortError when the signal aborts, before or during the body', async () => {
    const { server, url } = await listen((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
    });
    try {
      await expect(agentFetch(`${url}/`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      const controller = new AbortController();
      const response = await agentFetch(`${url}/`, { method: 'POST', body: '{}', signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await close(server);
    }
  });

  it('an abort before the request is on a connection rejects at once, and the request never leaves', async () => {
    const { server, url, ports } = await listen((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    try {
      // A new origin: the connection is still being opened when the abort comes.
      const controller = new AbortController();
      const aborted = agentFetch(`${url}/`, { method: 'POST', body: '{}', signal: controller.signal });
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ports.size).toBe(0);
      expect(await (await agentFetch(`${url}/`, { method: 'POST', body: '{}' })).json()).toEqual({ ok: true });
    } finally {
      await close(server);
    }
  });

  it('an abort while a whole body is read rejects with an AbortError', async () => {
    const { server, url } = await listen((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"half":');
    });
    try {
      const controller = new AbortController();
      const answered = agentFetch(`${url}/`, { method: 'POST', body: '{}', signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(answered).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await close(server);
    }
  });

  it('cancelling a stream closes its connection; a status without a body answers none', async () => {
    let closed: Promise<void> | undefined;
    const { server, url } = await listen((res) => {
      if (closed) return res.writeHead(204).end();
      closed = new Promise((resolve) => res.socket!.once('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {}\n\n');
    });
    try {
      const response = await agentFetch(`${url}/`, { method: 'POST', body: '{}' });
      const reader = response.body!.getReader();
      await reader.read();
      await reader.cancel();
      await closed;
      const empty = await agentFetch(`${url}/`, { method: 'POST', body: '{}' });
      expect([empty.status, empty.body, await empty.text()]).toEqual([204, null, '']);
    } finally {
      await close(server);
    }
  });

  it('a server that never answers is a timeout for the SDK and the router', async () => {
    fake.failNext({ hangMs: 5000 });
    const outcome = await countingAttempts(() => provider.create('claude-sonnet-4-6', params, { maxAttempts: 1, timeoutMs: 150 }));
    expect(outcome.error).toBeInstanceOf(ProviderFailure);
    expect(outcome.error).toMatchObject({ kind: 'timeout' });
    expect(outcome.attempts).toBe(1);
  });

  it('an unreachable provider is a connection error (and each retry is counted)', async () => {
    const { server, url } = await listen(() => undefined);
    await close(server);
    await expect(agentFetch(`${url}/`, {})).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    const unreachable = new AnthropicProviderRepository({ name: 'anthropic', type: 'anthropic', baseUrl: url, apiKey: 'sk-ant-test' });
    const outcome = await countingAttempts(() => unreachable.create('claude-sonnet-4-6', params, { maxAttempts: 2, timeoutMs: 2000 }));
    expect(outcome.error).toMatchObject({ kind: 'connection' });
    expect(outcome.attempts).toBe(2);
  });
});

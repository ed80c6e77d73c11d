import { create } from '@bufbuild/protobuf';
import { aiV1, AppError, ErrorCode } from '@overskill/contracts';
import type { Principal } from '../routing/access';
import { parseMessagesRequest } from '../routing/anthropic-messages.schema';
import type { AiRouterRepository, CompletionRequestInit } from './ai-router.repository';
import { LlmGatewayService, type StreamChunk } from './llm-gateway.service';

// The stream's assembly with a fake router: chunks and the router's reply arrive in any order,
// a gap in the chunks' seq or a reply without them ends the stream with an error the client reads.
describe('LlmGatewayService.stream', () => {
  const principal: Principal = { keyId: 'key-1', keyPrefix: 'osk_x', teamId: 'team-1', role: 'member', scopes: [] };
  const body = parseMessagesRequest({ model: 'primary', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Say ok' }] });

  let onChunk: (chunk: aiV1.StreamChunk) => void;
  let settle: { resolve: () => void; reject: (err: unknown) => void };
  let closed: number;
  let sent: Array<{ request: CompletionRequestInit; tenantId: string }>;
  let service: LlmGatewayService;

  const chunk = (seq: number, event: string) => onChunk(create(aiV1.StreamChunkSchema, { seq, event, dataJson: JSON.stringify({ type: event }) }));
  const drain = async (chunks: AsyncGenerator<StreamChunk[]>) => {
    const events: string[] = [];
    for await (const batch of chunks) events.push(...batch.map((c) => c.event));
    return events;
  };

  beforeEach(() => {
    closed = 0;
    sent = [];
    const router = {
      stream: (request: CompletionRequestInit, tenantId: string, take: (c: aiV1.StreamChunk) => void) => {
        sent.push({ request, tenantId });
        onChunk = take;
        const reply = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
        return { reply, close: () => (closed += 1) };
      },
    } as unknown as AiRouterRepository;
    service = new LlmGatewayService(router);
  });

  afterEach(() => jest.useRealTimers());

  it('yields the chunks in order until the stop, under the caller’s team', async () => {
    const started = service.stream(principal, body);
    chunk(0, 'message_start');
    const chunks = await started;
    chunk(1, 'content_block_delta');
    chunk(2, 'message_stop');
    settle.resolve();
    expect(await drain(chunks)).toEqual(['message_start', 'content_block_delta', 'message_stop']);
    expect(sent).toEqual([
      expect.objectContaining({ tenantId: 'team-1', request: expect.objectContaining({ teamId: 'team-1', apiKeyId: 'key-1', maxTokens: 64 }) }),
    ]);
    expect(closed).toBe(1);
  });

  it('fails with the router’s error when the call failed before any output', async () => {
    const started = service.stream(principal, body);
    settle.reject(new AppError(ErrorCode.AI_BUDGET_EXCEEDED, 'The team budget would be exceeded'));
    await expect(started).rejects.toMatchObject({ code: ErrorCode.AI_BUDGET_EXCEEDED });
    expect(closed).toBe(1);
  });

  it('still streams when the reply overtakes the first chunks', async () => {
    jest.useFakeTimers();
    const started = service.stream(principal, body);
    settle.resolve();
    // The reply is in; the chunks come a moment later, within the trailing window.
    await jest.advanceTimersByTimeAsync(500);
    chunk(0, 'message_start');
    chunk(1, 'message_stop');
    expect(await drain(await started)).toEqual(['message_start', 'message_stop']);
  });

  it('ends with an error event when a chunk went missing', async () => {
    const started = service.stream(principal, body);
    chunk(0, 'message_start');
    chunk(2, 'message_stop');
    const events = await drain(await started);
    expect(events).toEqual(['message_start', 'message_stop', 'error']);
    expect(closed).toBe(1);
  });

  it('ends with an error event when the router answers without the stop', async () => {
    jest.useFakeTimers();
    const started = service.stream(principal, body);
    chunk(0, 'message_start');
    const chunks = await started;
    const events = drain(chunks);
    settle.reject(new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'Every model of the chain failed'));
    await jest.advanceTimersByTimeAsync(2_000);
    expect(await events).toEqual(['message_start', 'error']);
    expect(closed).toBe(1);
  });

  it('fails when the router answers and no chunk ever comes', async () => {
    jest.useFakeTimers();
    const started = service.stream(principal, body);
    const outcome = started.then(
      () => 'streamed',
      (err: AppError) => err.code,
    );
    settle.resolve();
    await jest.advanceTimersByTimeAsync(4_000);
    expect(await outcome).toBe(ErrorCode.AI_PROVIDER_UNAVAILABLE);
    expect(closed).toBe(1);
  });
});

import type { MessageInitShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { aiV1, AppError, ErrorCode } from '@overskill/contracts';
import type { Principal } from '../routing/access';
import type { MessagesRequest } from '../routing/anthropic-messages.schema';
import { AiRouterRepository, type CompletionRequestInit } from './ai-router.repository';

// After the router's reply, chunks still in flight get this long to arrive.
const TRAILING_CHUNKS_MS = 2000;
// A stream that goes silent this long (a router replica died mid-answer) is ended with an error.
const IDLE_STREAM_MS = 150_000;

export interface StreamChunk {
  event: string;
  data: string;
}

// The gateway side of the Anthropic-compatible endpoint: Anthropic JSON in, ai-router over NATS,
// Anthropic JSON (or SSE events) out.
@Injectable()
export class LlmGatewayService {
  constructor(private readonly router: AiRouterRepository) {}

  async create(principal: Principal, body: MessagesRequest): Promise<{ message: object; response: aiV1.CompletionResponse }> {
    const response = await this.router.complete(toCompletionRequest(principal, body), principal.teamId);
    return { message: toAnthropicMessage(response), response };
  }

  /**
   * Starts a streamed completion. Resolves with the chunks once the first one arrived, or rejects
   * with the router's error when the call failed before any output (so it can still be a JSON error).
   * Yields every chunk that has arrived at once, so the client gets them in one write.
   */
  async stream(principal: Principal, body: MessagesRequest): Promise<AsyncGenerator<StreamChunk[]>> {
    const queue: StreamChunk[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    let lost = false;
    let expected = 0;
    let rpcError: unknown;
    let rpcDone = false;
    let idle = false;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const open = this.router.stream(toCompletionRequest(principal, body), principal.teamId, (chunk) => {
      if (chunk.seq !== expected) lost = true;
      expected = chunk.seq + 1;
      queue.push({ event: chunk.event, data: chunk.dataJson });
      if (chunk.event === 'message_stop' || chunk.event === 'error') ended = true;
      notify();
    });
    open.reply
      .then(
        () => undefined,
        (err: unknown) => {
          rpcError = err;
        },
      )
      .finally(() => {
        rpcDone = true;
        notify();
      });

    const next = async (): Promise<void> => {
      if (queue.length || ended) return;
      if (rpcDone) {
        // The router answered; give chunks still on the wire a moment, then stop waiting.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, TRAILING_CHUNKS_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          idle = true;
          resolve();
        }, IDLE_STREAM_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    };

    await next();
    // The reply may overtake the first chunks (they travel on another connection).
    if (!queue.length && rpcDone && !rpcError) await next();
    if (!queue.length) {
      open.close();
      if (idle) throw new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'The model stream did not start in time; try again');
      throw rpcError ?? new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'The model stream ended before it started');
    }
    return (async function* () {
      try {
        for (;;) {
          while (queue.length) yield queue.splice(0);
          if (lost) {
            yield [
              {
                event: 'error',
                data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'Part of the stream was lost in transit; retry the request' } }),
              },
            ];
            return;
          }
          if (ended) return;
          const before = rpcDone;
          await next();
          if (!queue.length && ((before && rpcDone) || idle)) {
            const message = rpcError instanceof AppError ? rpcError.message : 'The model stream broke off';
            yield [{ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message } }) }];
            return;
          }
        }
      } finally {
        open.close();
      }
    })();
  }
}

function toBlocks(content: MessagesRequest['messages'][number]['content']): Array<MessageInitShape<typeof aiV1.ContentBlockSchema>> {
  if (typeof content === 'string') return [{ block: { case: 'text', value: { text: content } } }];
  return content.map((b) => {
    if (b.type === 'text') return { block: { case: 'text' as const, value: { text: b.text } } };
    if (b.type === 'tool_use') return { block: { case: 'toolUse' as const, value: { id: b.id, name: b.name, inputJson: JSON.stringify(b.input) } } };
    const text = typeof b.content === 'string' ? b.content : (b.content ?? []).map((t) => t.text).join('\n');
    return { block: { case: 'toolResult' as const, value: { toolUseId: b.tool_use_id, content: text, isError: b.is_error ?? false } } };
  });
}

export function toCompletionRequest(principal: Principal, body: MessagesRequest): CompletionRequestInit {
  return {
    teamId: principal.teamId,
    apiKeyId: principal.keyId,
    modelAlias: body.model,
    system: typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join('\n\n'),
    messages: body.messages.map((m) => ({ role: m.role === 'assistant' ? aiV1.Role.ASSISTANT : aiV1.Role.USER, content: toBlocks(m.content) })),
    tools: (body.tools ?? []).map((t) => ({ name: t.name, description: t.description ?? '', inputSchemaJson: JSON.stringify(t.input_schema) })),
    maxTokens: body.max_tokens,
    ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
  };
}

export function toAnthropicMessage(response: aiV1.CompletionResponse): object {
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content: response.content.flatMap((b): object[] => {
      if (b.block.case === 'text') return [{ type: 'text', text: b.block.value.text }];
      if (b.block.case === 'toolUse')
        return [{ type: 'tool_use', id: b.block.value.id, name: b.block.value.name, input: JSON.parse(b.block.value.inputJson || '{}') as unknown }];
      return [];
    }),
    stop_reason: response.stopReason || null,
    stop_sequence: null,
    usage: {
      input_tokens: Number(response.usage?.inputTokens ?? 0),
      output_tokens: Number(response.usage?.outputTokens ?? 0),
      cache_creation_input_tokens: Number(response.usage?.cacheCreationInputTokens ?? 0),
      cache_read_input_tokens: Number(response.usage?.cacheReadInputTokens ?? 0),
    },
  };
}

import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { randomBytes } from 'node:crypto';
import type { ChatMessage, ChatParams, ChatStreamEvent } from './chat-provider';

type OpenAiMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;

// Anthropic Messages ⇄ OpenAI chat completions, both ways, tool calls included.

function textOf(content: string | Array<{ type: string; text?: string }>): string {
  if (typeof content === 'string') return content;
  return content
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('\n');
}

export function toOpenAiRequest(model: string, params: ChatParams): OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming {
  const messages: OpenAiMessage[] = [];
  if (params.system) messages.push({ role: 'system', content: textOf(params.system as string | Anthropic.TextBlockParam[]) });
  for (const message of params.messages) {
    if (typeof message.content === 'string') {
      messages.push({ role: message.role, content: message.content });
      continue;
    }
    if (message.role === 'assistant') {
      const text = message.content
        .filter((b): b is Anthropic.TextBlockParam => b.type === 'text')
        .map((b) => b.text)
        .join('\n');
      const toolCalls = message.content
        .filter((b): b is Anthropic.ToolUseBlockParam => b.type === 'tool_use')
        .map((b) => ({ id: b.id, type: 'function' as const, function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
      messages.push({ role: 'assistant', content: text || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) });
      continue;
    }
    // A user turn: tool results become `tool` messages (they must follow the assistant's calls), then any text.
    for (const block of message.content) {
      if (block.type === 'tool_result') {
        const content = typeof block.content === 'string' ? block.content : textOf((block.content ?? []) as Array<{ type: string; text?: string }>);
        messages.push({ role: 'tool', tool_call_id: block.tool_use_id, content: block.is_error ? `Error: ${content}` : content });
      }
    }
    const text = message.content
      .filter((b): b is Anthropic.TextBlockParam => b.type === 'text')
      .map((b) => b.text)
      .join('\n');
    if (text) messages.push({ role: 'user', content: text });
  }
  const tools = (params.tools ?? [])
    .filter((t): t is Anthropic.Tool => 'input_schema' in t)
    .map((t) => ({
      type: 'function' as const,
      function: { name: t.name, description: t.description ?? '', parameters: t.input_schema as Record<string, unknown> },
    }));
  return {
    model,
    messages,
    max_tokens: params.max_tokens,
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
    ...(tools.length ? { tools } : {}),
  };
}

const STOP_REASONS: Record<string, Anthropic.StopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

function parseArguments(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Models do emit broken JSON: keep it, so the agent can see and correct it.
  }
  return { _raw_arguments: json };
}

function usageOf(usage: OpenAI.Completions.CompletionUsage | undefined | null): Anthropic.Usage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
    cache_creation: null,
    server_tool_use: null,
    service_tier: null,
  } as Anthropic.Usage;
}

export function fromOpenAiCompletion(completion: OpenAI.Chat.Completions.ChatCompletion): ChatMessage {
  const choice = completion.choices[0];
  const content: Anthropic.ContentBlock[] = [];
  const text = choice?.message?.content;
  if (text) content.push({ type: 'text', text, citations: null } as Anthropic.TextBlock);
  for (const call of choice?.message?.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) } as Anthropic.ToolUseBlock);
  }
  return {
    id: completion.id,
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: STOP_REASONS[choice?.finish_reason ?? 'stop'] ?? 'end_turn',
    stop_sequence: null,
    usage: usageOf(completion.usage),
  } as ChatMessage;
}

/** Turns an OpenAI chunk stream into the Anthropic event sequence (message_start … message_stop). */
export async function* toAnthropicEvents(chunks: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>, model: string): AsyncGenerator<ChatStreamEvent> {
  let started = false;
  let index = -1;
  let open: { kind: 'text' } | { kind: 'tool'; openAiIndex: number } | undefined;
  let stopReason: Anthropic.StopReason = 'end_turn';
  let usage = usageOf(undefined);
  const startMessage = (id: string, actualModel: string): ChatStreamEvent =>
    ({
      type: 'message_start',
      message: { id, type: 'message', role: 'assistant', model: actualModel, content: [], stop_reason: null, stop_sequence: null, usage },
    }) as unknown as ChatStreamEvent;
  for await (const chunk of chunks) {
    if (!started) {
      started = true;
      yield startMessage(chunk.id || `msg_${randomBytes(12).toString('hex')}`, chunk.model || model);
    }
    if (chunk.usage) usage = usageOf(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const delta = choice.delta ?? {};
    if (delta.content) {
      if (open?.kind !== 'text') {
        if (open) yield { type: 'content_block_stop', index };
        index += 1;
        open = { kind: 'text' };
        yield { type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } } as ChatStreamEvent;
      }
      yield { type: 'content_block_delta', index, delta: { type: 'text_delta', text: delta.content } };
    }
    for (const call of delta.tool_calls ?? []) {
      if (open?.kind !== 'tool' || open.openAiIndex !== call.index) {
        if (open) yield { type: 'content_block_stop', index };
        index += 1;
        open = { kind: 'tool', openAiIndex: call.index };
        yield {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: call.id ?? `toolu_${randomBytes(12).toString('hex')}`, name: call.function?.name ?? '', input: {} },
        } as ChatStreamEvent;
      }
      if (call.function?.arguments) yield { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: call.function.arguments } };
    }
    if (choice.finish_reason) stopReason = STOP_REASONS[choice.finish_reason] ?? 'end_turn';
  }
  if (!started) yield startMessage(`msg_${randomBytes(12).toString('hex')}`, model);
  if (open) yield { type: 'content_block_stop', index };
  yield { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage } as unknown as ChatStreamEvent;
  yield { type: 'message_stop' };
}

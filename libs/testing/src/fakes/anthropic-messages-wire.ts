import { RandomPool } from '@overskill/contracts';
import type { FakeContentBlock, FakeTurn } from './anthropic-fake';

// Wire shapes of the Anthropic Messages API (https://docs.anthropic.com/en/api/messages), kept
// apart from the server so the fake's HTTP handling stays readable.

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface AnthropicApiError {
  type: AnthropicErrorType;
  message: string;
}

export type AnthropicStopReason = NonNullable<FakeTurn['stop_reason']>;

export type AnthropicResponseBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  service_tier: 'standard';
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason;
  stop_sequence: null;
  usage: AnthropicUsage;
}

export interface ServerSentEvent {
  event: string;
  data: unknown;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const ID_CHARS = 22;
// A fake answering thousands of calls a second for a benchmark makes three ids per answer.
const idBytes = new RandomPool();

/** Ids in the real format: `msg_01…`, `toolu_01…`, `req_01…` followed by 22 base62 characters. */
export function anthropicId(prefix: 'msg' | 'toolu' | 'req'): string {
  let suffix = '';
  for (const byte of idBytes.take(ID_CHARS)) suffix += BASE62[byte % BASE62.length];
  return `${prefix}_01${suffix}`;
}

export function errorBody(error: AnthropicApiError, requestId: string): object {
  return { type: 'error', error: { type: error.type, message: error.message }, request_id: requestId };
}

// Roughly four bytes a token, so counts grow with the payload and are the same on every run.
export function estimateTokens(value: unknown): number {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return Math.max(1, Math.ceil(Buffer.byteLength(text) / 4));
}

/** The input a request is billed for: system prompt, tool definitions and messages. */
export function estimateInputTokens(body: Record<string, unknown>): number {
  return estimateTokens({ system: body['system'], tools: body['tools'], messages: body['messages'] });
}

export function buildMessage(turn: FakeTurn, requestBody: Record<string, unknown>): AnthropicMessage {
  const content = turn.content.map(toResponseBlock);
  const stopReason = turn.stop_reason ?? (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const cacheCreation = turn.usage?.cache_creation_input_tokens ?? 0;
  return {
    id: anthropicId('msg'),
    type: 'message',
    role: 'assistant',
    model: turn.model ?? String(requestBody['model']),
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: turn.usage?.input_tokens ?? estimateInputTokens(requestBody),
      output_tokens: turn.usage?.output_tokens ?? estimateTokens(content),
      cache_read_input_tokens: turn.usage?.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: cacheCreation,
      cache_creation: { ephemeral_5m_input_tokens: cacheCreation, ephemeral_1h_input_tokens: 0 },
      service_tier: 'standard',
    },
  };
}

function toResponseBlock(block: FakeContentBlock): AnthropicResponseBlock {
  if (block.type === 'text') return { type: 'text', text: block.text };
  return { type: 'tool_use', id: block.id ?? anthropicId('toolu'), name: block.name, input: block.input };
}

/** Splits into at most `parts` pieces on code-point boundaries, so no chunk carries half a surrogate pair. */
export function splitIntoChunks(text: string, parts = 3): string[] {
  const codePoints = Array.from(text);
  if (codePoints.length === 0) return [];
  const size = Math.ceil(codePoints.length / parts);
  const chunks: string[] = [];
  for (let start = 0; start < codePoints.length; start += size) {
    chunks.push(codePoints.slice(start, start + size).join(''));
  }
  return chunks;
}

/** The event sequence the real API streams for one message, in the order the SDK's MessageStream expects. */
export function messageStreamEvents(message: AnthropicMessage): ServerSentEvent[] {
  const events: ServerSentEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
      });
      for (const text of splitIntoChunks(block.text)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text } } });
      }
    } else {
      events.push({
        event: 'content_block_start',
        data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } },
      });
      // The real API opens every tool input with an empty partial_json before the JSON itself.
      for (const partialJson of ['', ...splitIntoChunks(JSON.stringify(block.input))]) {
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partialJson } },
        });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: null },
        usage: { output_tokens: message.usage.output_tokens },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

export function formatServerSentEvent({ event, data }: ServerSentEvent): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

// ---- request validation: enough of the real API's rules to catch client bugs ----

const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;

function invalid(message: string): AnthropicApiError {
  return { type: 'invalid_request_error', message };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the error the real API would answer with, or undefined when the request is acceptable. */
export function validateMessagesRequest(body: unknown): AnthropicApiError | undefined {
  if (!isRecord(body)) return invalid('Request body must be a JSON object');
  if (body['model'] === undefined) return invalid('model: Field required');
  if (typeof body['model'] !== 'string' || body['model'].length === 0) return invalid('model: Input should be a valid string');
  if (body['max_tokens'] === undefined) return invalid('max_tokens: Field required');
  if (!Number.isInteger(body['max_tokens'])) return invalid('max_tokens: Input should be a valid integer');
  if ((body['max_tokens'] as number) < 1) return invalid('max_tokens: Input should be greater than or equal to 1');
  if (body['stream'] !== undefined && typeof body['stream'] !== 'boolean') return invalid('stream: Input should be a valid boolean');
  return validateSystem(body['system']) ?? validateTools(body['tools']) ?? validateMessages(body['messages']);
}

function validateSystem(system: unknown): AnthropicApiError | undefined {
  if (system === undefined || typeof system === 'string') return undefined;
  if (!Array.isArray(system)) return invalid('system: Input should be a valid string or list of text blocks');
  for (const [index, block] of system.entries()) {
    if (!isRecord(block) || block['type'] !== 'text' || typeof block['text'] !== 'string') {
      return invalid(`system.${index}: Input should be a text block`);
    }
  }
  return undefined;
}

function validateTools(tools: unknown): AnthropicApiError | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) return invalid('tools: Input should be a valid list');
  const names = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    if (!isRecord(tool)) return invalid(`tools.${index}: Input should be a valid dictionary`);
    const name = tool['name'];
    if (typeof name !== 'string' || !TOOL_NAME_PATTERN.test(name)) {
      return invalid(`tools.${index}.name: String should match pattern '${TOOL_NAME_PATTERN.source}'`);
    }
    if (names.has(name)) return invalid(`tools: Tool names must be unique (${name})`);
    names.add(name);
    // Server tools (web_search, …) carry a `type` and no schema; custom tools need an object schema.
    if (tool['type'] === undefined || tool['type'] === 'custom') {
      const schema = tool['input_schema'];
      if (!isRecord(schema)) return invalid(`tools.${index}.input_schema: Field required`);
      if (schema['type'] !== 'object') return invalid(`tools.${index}.input_schema.type: Input should be 'object'`);
    }
  }
  return undefined;
}

function validateMessages(messages: unknown): AnthropicApiError | undefined {
  if (messages === undefined) return invalid('messages: Field required');
  if (!Array.isArray(messages)) return invalid('messages: Input should be a valid list');
  if (messages.length === 0) return invalid('messages: at least one message is required');
  for (const [index, message] of messages.entries()) {
    const error = validateMessage(message, index);
    if (error) return error;
  }
  return validateToolPairing(messages as Array<{ role: string; content: unknown }>);
}

function validateMessage(message: unknown, index: number): AnthropicApiError | undefined {
  if (!isRecord(message)) return invalid(`messages.${index}: Input should be a valid dictionary`);
  const role = message['role'];
  if (role !== 'user' && role !== 'assistant') return invalid(`messages.${index}.role: Input should be 'user' or 'assistant'`);
  const content = message['content'];
  if (content === undefined) return invalid(`messages.${index}.content: Field required`);
  if (typeof content === 'string') {
    return content.length === 0 && role === 'user' ? invalid(`messages.${index}: user messages must have non-empty content`) : undefined;
  }
  if (!Array.isArray(content)) return invalid(`messages.${index}.content: Input should be a valid string or list`);
  for (const [blockIndex, block] of content.entries()) {
    const where = `messages.${index}.content.${blockIndex}`;
    if (!isRecord(block) || typeof block['type'] !== 'string') return invalid(`${where}.type: Field required`);
    switch (block['type']) {
      case 'text':
        if (typeof block['text'] !== 'string') return invalid(`${where}.text: Field required`);
        if (block['text'].length === 0) return invalid('messages: text content blocks must be non-empty');
        break;
      case 'tool_use':
        if (role !== 'assistant') return invalid(`${where}: tool_use blocks may only appear in assistant messages`);
        if (typeof block['id'] !== 'string' || typeof block['name'] !== 'string') return invalid(`${where}: tool_use requires id and name`);
        if (!isRecord(block['input'])) return invalid(`${where}.input: Input should be a valid dictionary`);
        break;
      case 'tool_result':
        if (role !== 'user') return invalid(`${where}: tool_result blocks may only appear in user messages`);
        if (typeof block['tool_use_id'] !== 'string') return invalid(`${where}.tool_use_id: Field required`);
        break;
      default:
        // Images, documents, thinking, server tool blocks: accepted without further checks.
        break;
    }
  }
  return undefined;
}

function blocksOf(content: unknown, type: 'tool_use' | 'tool_result'): Array<Record<string, unknown>> {
  if (!Array.isArray(content)) return [];
  return content.filter((block): block is Record<string, unknown> => isRecord(block) && block['type'] === type);
}

// The most common agent-loop bug: a tool_use left without its tool_result in the very next message,
// or a tool_result answering a tool_use that was never made. The real API rejects both.
function validateToolPairing(messages: Array<{ role: string; content: unknown }>): AnthropicApiError | undefined {
  for (const [index, message] of messages.entries()) {
    if (message.role === 'user') {
      const previous = messages[index - 1];
      const offeredIds = new Set(previous?.role === 'assistant' ? blocksOf(previous.content, 'tool_use').map((block) => block['id']) : []);
      for (const [blockIndex, result] of blocksOf(message.content, 'tool_result').entries()) {
        if (!offeredIds.has(result['tool_use_id'])) {
          return invalid(
            `messages.${index}.content.${blockIndex}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ` +
              `${String(result['tool_use_id'])}. ` +
              'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
          );
        }
      }
      continue;
    }
    const toolUseIds = blocksOf(message.content, 'tool_use').map((block) => String(block['id']));
    const next = messages[index + 1];
    // A trailing assistant message is a prefill; its tool_use is answered by nobody yet.
    if (toolUseIds.length === 0 || next === undefined) continue;
    const answered = new Set(next.role === 'user' ? blocksOf(next.content, 'tool_result').map((block) => block['tool_use_id']) : []);
    const missing = toolUseIds.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return invalid(
        `messages.${index + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
          'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
      );
    }
  }
  return undefined;
}

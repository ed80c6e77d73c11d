import type Anthropic from '@anthropic-ai/sdk';
import { AppError, aiV1, ErrorCode, KeptPerCatalog, type Rpc } from '@overskill/contracts';
import type { RpcReply } from '@overskill/messaging';
import { createHash } from 'node:crypto';
import type { ChatMessage, ChatParams } from '../providers/chat-provider';

type ContentBlockInit = RpcReply<typeof Rpc.aiCompletionCreate>['content'] extends (infer B)[] | undefined ? B : never;

const DEFAULT_MAX_TOKENS = 4096;
const MAX_MAX_TOKENS = 128_000;
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const EPHEMERAL = { type: 'ephemeral' } as const;

function invalid(message: string): AppError {
  return new AppError(ErrorCode.AI_REQUEST_INVALID, message);
}

/**
 * The proto request as Anthropic Messages params, with prompt-cache breakpoints on what stays
 * the same from one turn to the next: the system prompt, the tool definitions, and the history up
 * to the newest message (Anthropic allows four breakpoints; this uses at most three).
 */
export function toChatParams(req: aiV1.CompletionRequest): ChatParams {
  if (req.messages.length === 0) throw invalid('messages must hold at least one message');
  if (req.maxTokens < 0 || req.maxTokens > MAX_MAX_TOKENS) throw invalid(`max_tokens must be 1-${MAX_MAX_TOKENS} (0 = ${DEFAULT_MAX_TOKENS})`);
  if (req.temperature !== undefined && !(req.temperature >= 0 && req.temperature <= 2)) throw invalid('temperature must be between 0 and 2');
  const messages = req.messages.map(toAnthropicMessage);
  if (messages[0].role !== 'user') throw invalid('the first message must be from the user');
  if (messages.length >= 2) {
    const prefixEnd = messages[messages.length - 2].content as Anthropic.ContentBlockParam[];
    const last = prefixEnd[prefixEnd.length - 1];
    if (last) (last as { cache_control?: unknown }).cache_control = EPHEMERAL;
  }
  const tools = toolsOf(req.tools);
  return {
    max_tokens: req.maxTokens > 0 ? req.maxTokens : DEFAULT_MAX_TOKENS,
    messages,
    ...(req.system ? { system: [{ type: 'text', text: req.system, cache_control: EPHEMERAL }] } : {}),
    ...(tools.length ? { tools } : {}),
    ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
  };
}

// A run sends the same catalog on every turn: it is mapped once per replica, and every turn gets
// the same frozen list, whose JSON the provider then writes once too (anthropic-request-body.ts).
// Callers choose the catalogs, so at most this many are kept.
const toolsCache = new KeptPerCatalog<Anthropic.Tool[]>(64);

function toolsOf(defs: aiV1.ToolDefinition[]): Anthropic.Tool[] {
  if (defs.length === 0) return [];
  return toolsCache.get(defs, () => mappedTools(defs));
}

function mappedTools(defs: aiV1.ToolDefinition[]): Anthropic.Tool[] {
  const names = new Set<string>();
  const tools: Anthropic.Tool[] = defs.map((tool, index) => {
    if (!TOOL_NAME.test(tool.name)) throw invalid(`tools[${index}].name must be 1-128 letters, digits, _ or -`);
    if (names.has(tool.name)) throw invalid(`tools[${index}].name ${tool.name} is given twice`);
    names.add(tool.name);
    const schema = parsedSchema(tool.inputSchemaJson, `tools[${index}].input_schema`);
    if (schema.type !== 'object') throw invalid(`tools[${index}].input_schema must be a JSON schema of type object`);
    return { name: tool.name, description: tool.description, input_schema: schema as Anthropic.Tool.InputSchema };
  });
  (tools[tools.length - 1] as { cache_control?: unknown }).cache_control = EPHEMERAL;
  return deepFreeze(tools);
}

function toAnthropicMessage(message: aiV1.ChatMessage, index: number): Anthropic.MessageParam {
  if (message.role !== aiV1.Role.USER && message.role !== aiV1.Role.ASSISTANT) throw invalid(`messages[${index}].role must be user or assistant`);
  const role = message.role === aiV1.Role.ASSISTANT ? 'assistant' : 'user';
  // Models sometimes answer with an empty text block beside a tool call; providers refuse it back.
  const blocks = message.content.filter((block) => !(block.block.case === 'text' && block.block.value.text === '' && message.content.length > 1));
  if (blocks.length === 0) throw invalid(`messages[${index}] has no content`);
  const content: Anthropic.ContentBlockParam[] = blocks.map((block, b) => {
    const where = `messages[${index}].content[${b}]`;
    switch (block.block.case) {
      case 'text':
        if (!block.block.value.text) throw invalid(`${where}: text blocks must not be empty`);
        return { type: 'text', text: block.block.value.text };
      case 'toolUse':
        if (role !== 'assistant') throw invalid(`${where}: tool_use blocks belong in assistant messages`);
        return {
          type: 'tool_use',
          id: block.block.value.id,
          name: block.block.value.name,
          input: parseJsonObject(block.block.value.inputJson, `${where}.input`),
        };
      case 'toolResult':
        if (role !== 'user') throw invalid(`${where}: tool_result blocks belong in user messages`);
        return { type: 'tool_result', tool_use_id: block.block.value.toolUseId, content: block.block.value.content, is_error: block.block.value.isError };
      default:
        throw invalid(`${where} is empty`);
    }
  });
  return { role, content };
}

function parseJsonObject(json: string, field: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json || '{}');
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalid(`${field} must be a JSON object`);
}

// A run sends the same catalog on every turn: its schemas are parsed once per replica. Frozen,
// since every request shares the object; bounded, since callers choose the strings.
const SCHEMA_CACHE_MAX = 512;
const schemaCache = new Map<string, Record<string, unknown>>();

function parsedSchema(json: string, field: string): Record<string, unknown> {
  const found = schemaCache.get(json);
  if (found) return found;
  // Nothing is kept for a schema that does not parse (parseJsonObject throws).
  const schema = deepFreeze(parseJsonObject(json, field));
  if (schemaCache.size >= SCHEMA_CACHE_MAX) schemaCache.delete(schemaCache.keys().next().value as string);
  schemaCache.set(json, schema);
  return schema;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export interface ReplyCore {
  id: string;
  model: string;
  stopReason: string;
  content: ContentBlockInit[];
  usage: { inputTokens: bigint; outputTokens: bigint; cacheReadInputTokens: bigint; cacheCreationInputTokens: bigint };
}

export function fromChatMessage(message: ChatMessage): ReplyCore {
  const usage = message.usage;
  return {
    id: message.id,
    model: message.model,
    stopReason: message.stop_reason ?? '',
    content: message.content.flatMap(fromAnthropicBlock),
    usage: {
      inputTokens: BigInt(usage.input_tokens ?? 0),
      outputTokens: BigInt(usage.output_tokens ?? 0),
      cacheReadInputTokens: BigInt(usage.cache_read_input_tokens ?? 0),
      cacheCreationInputTokens: BigInt(usage.cache_creation_input_tokens ?? 0),
    },
  };
}

function fromAnthropicBlock(block: Anthropic.ContentBlock): ContentBlockInit[] {
  if (block.type === 'text') return [{ block: { case: 'text', value: { text: block.text } } }];
  if (block.type === 'tool_use')
    return [{ block: { case: 'toolUse', value: { id: block.id, name: block.name, inputJson: JSON.stringify(block.input ?? {}) } } }];
  return [];
}

// JSON punctuation and field names around each block, in bytes, for the estimate.
const BLOCK_OVERHEAD_BYTES = 32;

// About four bytes a token: enough to admit or refuse before the call; settled from real usage after.
// Counted on the request's strings, without serializing the whole conversation once more.
export function estimateInputTokens(req: aiV1.CompletionRequest): number {
  let bytes = Buffer.byteLength(req.system);
  for (const tool of req.tools)
    bytes += BLOCK_OVERHEAD_BYTES + Buffer.byteLength(tool.name) + Buffer.byteLength(tool.description) + Buffer.byteLength(tool.inputSchemaJson);
  for (const message of req.messages) {
    for (const { block } of message.content) {
      bytes += BLOCK_OVERHEAD_BYTES;
      if (block.case === 'text') bytes += Buffer.byteLength(block.value.text);
      else if (block.case === 'toolUse')
        bytes += Buffer.byteLength(block.value.id) + Buffer.byteLength(block.value.name) + Buffer.byteLength(block.value.inputJson);
      else if (block.case === 'toolResult') bytes += Buffer.byteLength(block.value.toolUseId) + Buffer.byteLength(block.value.content);
    }
  }
  return Math.ceil(bytes / 4);
}

/** Identical deterministic requests of one team to one model share a key. */
export function cacheKey(teamId: string, provider: string, model: string, params: ChatParams): string {
  return createHash('sha256')
    .update(JSON.stringify([teamId, provider, model, params]))
    .digest('hex');
}

export function isCacheable(req: aiV1.CompletionRequest): boolean {
  return req.allowCache || req.temperature === 0;
}

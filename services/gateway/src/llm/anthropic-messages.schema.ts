import { AppError, ErrorCode } from '@overskill/contracts';
import { z } from 'zod';

// The Anthropic Messages API request, as much of it as overskill routes: text, tool use and tool
// results, system prompt, tools, temperature, streaming. Anything else is refused by name rather
// than silently dropped, so a client never believes a setting took effect when it did not.

const textBlock = z.object({ type: z.literal('text'), text: z.string().min(1).max(1_000_000), cache_control: z.unknown().optional() }).strict();
const toolUseBlock = z
  .object({ type: z.literal('tool_use'), id: z.string().min(1).max(200), name: z.string().min(1).max(128), input: z.record(z.unknown()), cache_control: z.unknown().optional() })
  .strict();
const toolResultBlock = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1).max(200),
    content: z.union([z.string(), z.array(textBlock)]).optional(),
    is_error: z.boolean().optional(),
    cache_control: z.unknown().optional(),
  })
  .strict();
const block = z.discriminatedUnion('type', [textBlock, toolUseBlock, toolResultBlock]);

export const messagesRequestSchema = z
  .object({
    model: z.string().min(1).max(200),
    max_tokens: z.number().int().min(1).max(128_000),
    messages: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string().min(1), z.array(block).min(1)]) }).strict())
      .min(1)
      .max(10_000),
    system: z.union([z.string(), z.array(textBlock)]).optional(),
    tools: z
      .array(z.object({ name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/), description: z.string().max(100_000).optional(), input_schema: z.record(z.unknown()), cache_control: z.unknown().optional(), type: z.literal('custom').optional() }).strict())
      .max(500)
      .optional(),
    temperature: z.number().min(0).max(1).optional(),
    stream: z.boolean().optional(),
    metadata: z.object({ user_id: z.string().max(256).optional() }).strict().optional(),
  })
  .strict();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export function parseMessagesRequest(body: unknown): MessagesRequest {
  const result = messagesRequestSchema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.join('.') || 'body';
  const message = issue.code === 'unrecognized_keys' ? `${where}: ${issue.keys.join(', ')} is not supported by this gateway` : `${where}: ${issue.message}`;
  throw new AppError(ErrorCode.AI_REQUEST_INVALID, message);
}

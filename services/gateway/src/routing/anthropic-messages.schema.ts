import { AppError, ErrorCode } from '@overskill/contracts';
import { z } from 'zod';

// The Anthropic Messages API request, as much of it as overskill routes: text, tool use and tool
// results, system prompt, tools, temperature, streaming. Anything else is refused by name rather
// than silently dropped, so a client never believes a setting took effect when it did not.

const textBlock = z.object({ type: z.literal('text'), text: z.string().min(1).max(1_000_000), cache_control: z.unknown().optional() }).strict();
const toolUseBlock = z
  .object({
    type: z.literal('tool_use'),
    id: z.string().min(1).max(200),
    name: z.string().min(1).max(128),
    input: z.record(z.unknown()),
    cache_control: z.unknown().optional(),
  })
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
      .array(
        z
          .object({
            name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/),
            description: z.string().max(100_000).optional(),
            input_schema: z.record(z.unknown()),
            cache_control: z.unknown().optional(),
            type: z.literal('custom').optional(),
          })
          .strict(),
      )
      .max(500)
      .optional(),
    temperature: z.number().min(0).max(1).optional(),
    stream: z.boolean().optional(),
    metadata: z
      .object({ user_id: z.string().max(256).optional() })
      .strict()
      .optional(),
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

// ---- the documented answers (OpenAPI); the SDK reads these fields, newer ones pass through.
export const messagesResponseSchema = z
  .object({
    id: z.string(),
    type: z.literal('message'),
    role: z.literal('assistant'),
    model: z.string(),
    content: z.array(z.object({ type: z.string() }).passthrough()),
    stop_reason: z.string().nullable(),
    stop_sequence: z.string().nullable().optional(),
    usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }).passthrough(),
  })
  .passthrough();

// Anthropic's error shape (what the SDKs read) with overskill's code and correlation id; errors
// raised before the route (auth, limits, body checks) carry only the gateway's own fields.
export const anthropicErrorSchema = z
  .object({
    type: z.literal('error').optional(),
    error: z.object({ type: z.string(), message: z.string() }).strict().optional(),
    code: z.string(),
    message: z.string(),
    correlationId: z.string(),
  })
  .strict();

export const aiUsageQuerySchema = z
  .object({
    day: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'day must be YYYY-MM-DD')
      .optional(),
  })
  .strict();
export const aiSwitchModelBodySchema = z.object({ alias: z.string().trim().min(1).max(32) }).strict();

export const aiStatusSchema = z
  .object({
    activeAlias: z.string(),
    aliases: z.array(z.object({ alias: z.string(), provider: z.string(), model: z.string() }).strict()),
    breakers: z.array(z.object({ model: z.string(), state: z.string(), consecutiveFailures: z.number().int(), openedAt: z.string().nullable() }).strict()),
    config: z.object({ source: z.string(), loadedAt: z.string(), priceTableVersion: z.string() }).strict(),
  })
  .strict();
export const aiCacheStatsSchema = z
  .object({
    hits: z.number(),
    misses: z.number(),
    hitRate: z.number(),
    entries: z.number(),
    bytes: z.number(),
    maxBytes: z.number(),
    ttlSeconds: z.number(),
    evictions: z.number(),
  })
  .strict();
export const aiUsageSchema = z
  .object({
    teamId: z.string(),
    day: z.string(),
    requests: z.number(),
    tokens: z.object({ input: z.number(), output: z.number(), cacheRead: z.number(), cacheWrite: z.number() }).strict(),
    costUsd: z.number(),
    budgetUsd: z.number(),
    committedUsd: z.number(),
    cacheHits: z.number(),
  })
  .strict();
// A range of UTC days, both included; the defaults make the last seven days up to today.
export const calendarDay = (name: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${name} must be YYYY-MM-DD`)
    .refine((d) => {
      // Round-tripping catches 2026-02-31, which Date rolls into March; a malformed string is an
      // invalid Date (its toISOString would throw).
      const t = new Date(`${d}T00:00:00Z`);
      return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
    }, `${name} must be a calendar day`);
export const AI_USAGE_MAX_DAYS = 92;
export const aiUsageDailyQuerySchema = z
  .object({
    from: calendarDay('from').optional().describe('First day (UTC); default six days before `to`'),
    to: calendarDay('to').optional().describe('Last day (UTC), included; default today'),
  })
  .strict()
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to' })
  .refine((q) => !q.from || !q.to || (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < AI_USAGE_MAX_DAYS, {
    message: `ask for at most ${AI_USAGE_MAX_DAYS} days`,
  });
const aiUsageTotalsSchema = z
  .object({
    requests: z.number(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cacheReadTokens: z.number(),
    cacheWriteTokens: z.number(),
    costUsd: z.number(),
  })
  .strict();
export const aiUsageDailySchema = z
  .object({
    from: z.string(),
    to: z.string(),
    totals: aiUsageTotalsSchema,
    days: z.array(z.object({ day: z.string() }).merge(aiUsageTotalsSchema).strict()).describe('Every day of the range, oldest first'),
    apps: z
      .array(
        z
          .object({ appId: z.string().nullable().describe('null: calls outside an app') })
          .merge(aiUsageTotalsSchema)
          .strict(),
      )
      .describe('Costliest first'),
    cells: z.array(z.object({ day: z.string(), appId: z.string().nullable() }).merge(aiUsageTotalsSchema).strict()).describe('Each day and app with calls'),
  })
  .strict();
export const aiModelSwitchedSchema = z.object({ activeAlias: z.string(), previousAlias: z.string() }).strict();

import { z } from 'zod';
import { calendarDay } from './anthropic-messages.schema';

export const REPORT_MAX_DAYS = 92;

const team = z
  .union([z.literal('all'), z.string().uuid()])
  .optional()
  .describe("Whose figures: your team by default; `all` or another team's id for keys of the operator teams (GATEWAY_OPERATOR_TEAMS)");

export const ReportQuery = z
  .object({
    from: calendarDay('from').optional().describe('First day (UTC); default 29 days before `to`'),
    to: calendarDay('to').optional().describe('Last day (UTC), included; default today'),
    team,
  })
  .strict()
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to' })
  .refine((q) => !q.from || !q.to || (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < REPORT_MAX_DAYS, {
    message: `ask for at most ${REPORT_MAX_DAYS} days`,
  });

export const MetricsQuery = z.object({ day: calendarDay('day').optional().describe('The UTC day; default today'), team }).strict();

const figures = {
  appsCreated: z.number(),
  activeUsers: z.number().describe('API keys that made a change or a model call'),
  aiRequests: z.number(),
  aiTokens: z.number().describe('Input and output tokens'),
  aiCostUsd: z.number(),
  aiCacheHits: z.number(),
  cacheHitRate: z.number().describe('Model calls answered by the response cache, 0 to 1'),
  cacheSavingsUsd: z.number().describe("Cache hits priced at the model's mean cost of an uncached call in the range"),
  toolCalls: z.number(),
  toolFailures: z.number(),
  runs: z.number(),
  runsFailed: z.number(),
  infraCostUsd: z.number().describe('Share of the infrastructure cost model (config/cost-model.yml)'),
};
const Figures = z.object(figures).strict();

export const BusinessReport = z
  .object({
    from: z.string(),
    to: z.string(),
    costModel: z.string().describe('Version of the cost model; "none" when no cost model is configured'),
    totals: Figures,
    days: z.array(z.object({ day: z.string(), ...figures }).strict()).describe('Every day of the range, oldest first'),
    weeks: z.array(z.object({ week: z.string().describe('The Monday that starts the ISO week'), appsCreated: z.number(), activeUsers: z.number() }).strict()),
    aiRequestsByUser: z.array(z.object({ keyId: z.string(), requests: z.number() }).strict()).describe('Most first (at most 100)'),
    apps: z
      .array(
        z
          .object({
            appId: z.string().nullable().describe('null: calls outside an app'),
            teamId: z.string(),
            aiRequests: z.number(),
            aiTokens: z.number(),
            aiCostUsd: z.number(),
            toolCalls: z.number(),
            infraCostUsd: z.number(),
            totalCostUsd: z.number(),
          })
          .strict(),
      )
      .describe('Costliest first'),
    tools: z
      .array(z.object({ tool: z.string(), calls: z.number(), failures: z.number(), failureRate: z.number(), avgMs: z.number() }).strict())
      .describe('Most used first; the last are the least used'),
    models: z.array(
      z
        .object({ model: z.string(), requests: z.number(), tokens: z.number(), costUsd: z.number(), cacheHits: z.number(), cacheSavingsUsd: z.number() })
        .strict(),
    ),
    teams: z.array(z.object({ teamId: z.string(), aiRequests: z.number(), aiCostUsd: z.number(), infraCostUsd: z.number() }).strict()),
  })
  .strict();

export const BusinessMetrics = z
  .object({
    day: z.string(),
    apps_created_today: z.number(),
    active_users: z.number(),
    cache_hit_rate: z.number(),
    ai_tokens_used: z.number(),
    tool_usage: z.record(z.string(), z.number()).describe('Calls per tool'),
  })
  .strict();

const ms = z.number().nullable();
export const PerformanceReport = z
  .object({
    from: z.string(),
    to: z.string(),
    latencies: z
      .array(
        z
          .object({
            kind: z.enum(['ai_model', 'tool', 'route']),
            name: z.string(),
            count: z.number(),
            errors: z.number(),
            errorRate: z.number(),
            p50Ms: ms,
            p95Ms: ms,
            p99Ms: ms,
            avgMs: ms.describe('null for routes: audited requests carry no duration (Prometheus has it)'),
          })
          .strict(),
      )
      .describe('Model calls by alias, tool calls by tool, and mutating API requests by route'),
    days: z.array(
      z.object({ day: z.string(), runs: z.number(), runsFailed: z.number(), aiRequests: z.number(), toolCalls: z.number(), apiWrites: z.number() }).strict(),
    ),
  })
  .strict();

import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

export const aiRouterEnvSchema = serviceEnvSchema(3002).extend({
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: env.optionalUrl(),
  // Model aliases (the seed's ai_models.yml); routing and fallback land with the ai-router issue.
  AI_PRIMARY_MODEL: z.string().min(1).default('claude-sonnet-4-5'),
  AI_FALLBACK_MODEL: z.string().min(1).default('claude-haiku-4-5'),
  AI_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  AI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  // Images: an OpenAI-images-compatible HTTP API (POST /v1/images/generations and /v1/images/edits).
  AI_IMAGE_BASE_URL: env.optionalUrl().transform((value) => value ?? 'https://api.openai.com'),
  AI_IMAGE_API_KEY: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), z.string().min(1).optional()),
  AI_IMAGE_MODEL: z.string().min(1).default('dall-e-3'),
  AI_IMAGE_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
});
export type AiRouterEnv = z.infer<typeof aiRouterEnvSchema>;
export const AI_ROUTER_ENV = Symbol('AI_ROUTER_ENV');

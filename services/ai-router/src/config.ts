import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

const optionalSecret = z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), z.string().min(1).optional());

export const aiRouterEnvSchema = serviceEnvSchema(3002).extend({
  REDIS_URL: env.redisUrl(),
  ANTHROPIC_API_KEY: optionalSecret,
  ANTHROPIC_BASE_URL: env.optionalUrl(),
  // Any OpenAI-compatible endpoint (OpenAI, OpenRouter, Ollama, vLLM) for the `openai` provider.
  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: env.optionalUrl(),
  OPENROUTER_API_KEY: optionalSecret,
  // The model config (the seed's ai_models.yml), re-read when it changes. Without it the
  // aliases come from AI_PRIMARY_MODEL / AI_FALLBACK_MODEL (Anthropic) and the seed's defaults.
  AI_MODELS_FILE: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), z.string().min(1).optional()),
  AI_PRIMARY_MODEL: z.string().min(1).default('claude-sonnet-4-6'),
  AI_FALLBACK_MODEL: z.string().min(1).default('claude-haiku-4-5'),
  // Per team and per key when the model file sets none (the seed: 60 requests, 100,000 tokens).
  AI_RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  AI_RATE_LIMIT_TOKENS_PER_MINUTE: z.coerce.number().int().min(0).default(100_000),
  AI_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  // Provider attempts (the SDK's retries included) per model and per request, all models together.
  AI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  AI_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  // true: log every model request and response in full, secrets redacted.
  AI_DEBUG: z.preprocess(
    (value) => (typeof value === 'string' ? value.trim().toLowerCase() === 'true' || value.trim() === '1' : value),
    z.boolean().default(false),
  ),
  // Images: an OpenAI-images-compatible HTTP API (POST /v1/images/generations and /v1/images/edits).
  AI_IMAGE_BASE_URL: env.optionalUrl().transform((value) => value ?? 'https://api.openai.com'),
  AI_IMAGE_API_KEY: optionalSecret,
  AI_IMAGE_MODEL: z.string().min(1).default('dall-e-3'),
  AI_IMAGE_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
});
export type AiRouterEnv = z.infer<typeof aiRouterEnvSchema>;
export const AI_ROUTER_ENV = Symbol('AI_ROUTER_ENV');

import { aiRouterEnvSchema } from '../config';
import { defaultAiModelsConfig, parseAiModelsConfig, parseByteSize } from './ai-models.config';

describe('ai_models.yml', () => {
  const env = aiRouterEnvSchema.parse({ ANTHROPIC_API_KEY: 'k' });

  it('reads the seed’s own file: aliases, 300 s cache TTL, 100MB cap, 60 requests and 100,000 tokens a minute', () => {
    const seed = `
production:
  primary_model: "anthropic/claude-3.5-sonnet"
  fallback_model: "openrouter/kimi-k2"
  image_model: "openai/dall-e-3"

  cache_settings:
    ttl: 300 # 5 minutes
    max_size: 100MB

  rate_limits:
    requests_per_minute: 60
    tokens_per_minute: 100000
`;
    const config = parseAiModelsConfig(seed, env, 'ai_models.yml', 'production');
    expect(config.aliases.primary).toEqual({ alias: 'primary', provider: 'anthropic', model: 'claude-3.5-sonnet' });
    expect(config.aliases.fallback).toEqual({ alias: 'fallback', provider: 'openrouter', model: 'kimi-k2' });
    expect(config.providers.openrouter.type).toBe('openai');
    expect(config.cache).toEqual({ ttlSeconds: 300, maxBytes: 100 * 1024 * 1024 });
    expect(config.rateLimits).toMatchObject({ requestsPerMinute: 60, tokensPerMinute: 100_000 });
  });

  it('defaults to the same seed values without a file', () => {
    const config = defaultAiModelsConfig(env);
    expect(config.aliases.primary.model).toBe('claude-sonnet-4-6');
    expect(config.cache.ttlSeconds).toBe(300);
    expect(config.rateLimits.requestsPerMinute).toBe(60);
  });

  it('rejects a broken file with the field that is wrong', () => {
    expect(() => parseAiModelsConfig('primary_model: claude', env, 'f.yml')).toThrow(/f\.yml: primary_model: must be "<provider>\/<model>"/);
    expect(() => parseAiModelsConfig('primary_model: nowhere/x', env, 'f.yml')).toThrow(/provider "nowhere", which is not configured/);
    expect(() => parseAiModelsConfig('primary_model: [', env, 'f.yml')).toThrow(/not valid YAML/);
    expect(() => parseAiModelsConfig('api_key: sk-123', env, 'f.yml')).toThrow(/Unrecognized key/);
  });

  it('reads sizes', () => {
    expect(parseByteSize('100MB')).toBe(104_857_600);
    expect(parseByteSize('512 kb')).toBe(524_288);
    expect(() => parseByteSize('lots')).toThrow(/not a size/);
  });
});

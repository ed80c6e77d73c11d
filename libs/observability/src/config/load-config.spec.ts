import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { baseServiceEnv } from './base-service-env';
import { ConfigError } from './config-error';
import { env } from './env-fields';
import { loadConfig } from './load-config';

const serviceEnv = baseServiceEnv.extend({
  PORT: env.port(3004),
  DATABASE_URL: env.databaseUrl(),
  REDIS_URL: env.redisUrl(),
  WORKSPACES_DIR: env.directory(),
});

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the platform defaults and resolves directories to absolute paths', () => {
    const config = loadConfig(serviceEnv, {
      DATABASE_URL: 'postgres://app@127.0.0.1:5432/overskill',
      WORKSPACES_DIR: 'data/workspaces',
      UNRELATED: 'ignored',
    });

    expect(config).toEqual({
      PORT: 3004,
      HOST: '127.0.0.1',
      NATS_URL: 'nats://127.0.0.1:4222',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
      DATABASE_URL: 'postgres://app@127.0.0.1:5432/overskill',
      REDIS_URL: 'redis://127.0.0.1:6379',
      WORKSPACES_DIR: join(process.cwd(), 'data/workspaces'),
    });
    expect(isAbsolute(config.WORKSPACES_DIR)).toBe(true);
  });

  it('reads given values with their types', () => {
    const config = loadConfig(serviceEnv, {
      PORT: '0',
      HOST: '0.0.0.0',
      NATS_URL: 'tls://nats.internal:4222',
      LOG_LEVEL: 'DEBUG',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      DATABASE_URL: 'postgresql://db/overskill',
      REDIS_URL: 'rediss://cache:6380',
      WORKSPACES_DIR: '/srv/workspaces',
    });

    expect(config.PORT).toBe(0);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.NATS_URL).toBe('tls://nats.internal:4222');
    expect(config.LOG_LEVEL).toBe('debug');
    expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
    expect(config.REDIS_URL).toBe('rediss://cache:6380');
    expect(config.WORKSPACES_DIR).toBe('/srv/workspaces');
  });

  it('names every missing and bad variable in one error', () => {
    const error = configErrorOf(() =>
      loadConfig(serviceEnv, {
        PORT: 'abc',
        NATS_URL: 'http://127.0.0.1:4222',
        LOG_LEVEL: 'loud',
        REDIS_URL: 'redis://127.0.0.1:6379',
      }),
    );

    expect(error.variables).toEqual(['NATS_URL', 'LOG_LEVEL', 'PORT', 'DATABASE_URL', 'WORKSPACES_DIR']);
    expect(error.message).toBe(
      'Invalid configuration: ' +
        'NATS_URL must be a nats:// or tls:// URL (got "http://127.0.0.1:4222"); ' +
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud"); ' +
        'PORT must be an integer 0-65535 (got "abc"); ' +
        'DATABASE_URL is required; ' +
        'WORKSPACES_DIR is required',
    );
    expect(error.name).toBe('ConfigError');
  });

  it('rejects ports out of range and non-postgres database URLs', () => {
    const error = configErrorOf(() => loadConfig(serviceEnv, { PORT: '65536', DATABASE_URL: 'mysql://db/x', WORKSPACES_DIR: '/w', REDIS_URL: 'http://r' }));
    expect(error.message).toContain('PORT must be an integer 0-65535 (got "65536")');
    expect(error.message).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL (got "mysql://db/x")');
    expect(error.message).toContain('REDIS_URL must be a redis:// or rediss:// URL (got "http://r")');
  });

  it('treats blank values as unset: defaults apply, required ones are reported as required', () => {
    const error = configErrorOf(() => loadConfig(serviceEnv, { PORT: '', HOST: '  ', DATABASE_URL: '', WORKSPACES_DIR: '/w' }));
    expect(error.variables).toEqual(['DATABASE_URL']);
    expect(error.message).toBe('Invalid configuration: DATABASE_URL is required');
  });

  it('never echoes credentials or secret values in the error', () => {
    const schema = z.object({
      DATABASE_URL: env.databaseUrl(),
      ANTHROPIC_API_KEY: z.string().startsWith('sk-', { message: 'must start with sk-' }),
    });
    const error = configErrorOf(() => loadConfig(schema, { DATABASE_URL: 'mysql://admin:hunter2@db/x', ANTHROPIC_API_KEY: 'oops-secret-value' }));

    expect(error.message).toBe(
      'Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL (got "mysql://db/x"); ' + 'ANTHROPIC_API_KEY must start with sk-',
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('oops-secret-value');
  });

  it('accepts only http(s) URLs for optional URL fields and leaves them unset when absent', () => {
    const schema = z.object({ OTEL_EXPORTER_OTLP_ENDPOINT: env.optionalUrl() });
    expect(loadConfig(schema, {}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(() => loadConfig(schema, { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (got "not a url")',
    );
  });

  it('reads process.env when no environment is given', () => {
    const schema = z.object({ OVERSKILL_SPEC_PORT: env.port(1) });
    process.env['OVERSKILL_SPEC_PORT'] = '4321';
    try {
      expect(loadConfig(schema)).toEqual({ OVERSKILL_SPEC_PORT: 4321 });
    } finally {
      delete process.env['OVERSKILL_SPEC_PORT'];
    }
  });
});

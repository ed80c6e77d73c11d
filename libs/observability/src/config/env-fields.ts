import { resolve } from 'node:path';
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Env values arrive as strings; the input side is `unknown` because blank values are folded to unset first.
type EnvField<T> = z.ZodType<T, z.ZodTypeDef, unknown>;

// `FOO=` in a compose file means "not set": fall back to the default (or report it as required).
function blankAsUnset<T extends z.ZodTypeAny>(schema: T): z.ZodEffects<T, z.output<T>, unknown> {
  return z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema);
}

function urlWithScheme(schemes: string[]): z.ZodEffects<z.ZodString, string, string> {
  const message = `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL`;
  return z
    .string()
    .trim()
    .refine((value) => URL.canParse(value) && schemes.includes(new URL(value).protocol), { message });
}

/** Field builders so every service spells and checks its environment the same way. */
export const env = {
  port(defaultPort: number): EnvField<number> {
    const message = 'must be an integer 0-65535';
    return blankAsUnset(
      z
        .string()
        .trim()
        .refine((value) => /^\d{1,5}$/.test(value) && Number(value) <= 65535, { message })
        .transform(Number)
        .default(String(defaultPort)),
    );
  },

  host(): EnvField<string> {
    return blankAsUnset(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9.:_[\]-]+$/, { message: 'must be a host name or IP address' })
        .default('127.0.0.1'),
    );
  },

  natsUrl(): EnvField<string> {
    return blankAsUnset(urlWithScheme(['nats:', 'tls:']).default('nats://127.0.0.1:4222'));
  },

  databaseUrl(): EnvField<string> {
    return blankAsUnset(urlWithScheme(['postgres:', 'postgresql:']));
  },

  redisUrl(): EnvField<string> {
    return blankAsUnset(urlWithScheme(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'));
  },

  logLevel(): EnvField<LogLevel> {
    const message = `must be one of ${LOG_LEVELS.join(', ')}`;
    return blankAsUnset(
      z
        .string()
        .trim()
        .transform((value) => value.toLowerCase())
        .refine((value): value is LogLevel => (LOG_LEVELS as readonly string[]).includes(value), { message })
        .default('info'),
    );
  },

  directory(): EnvField<string> {
    // Relative paths are resolved against the working directory once, so later chdir() cannot move them.
    return blankAsUnset(
      z
        .string()
        .refine((value) => !value.includes('\0'), { message: 'must be a directory path' })
        .transform((value) => resolve(value)),
    );
  },

  optionalUrl(): EnvField<string | undefined> {
    return blankAsUnset(
      z
        .string()
        .trim()
        .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
          message: 'must be an http:// or https:// URL',
        })
        .optional(),
    );
  },
};

import { randomUUID } from 'node:crypto';

// What we accept from callers: short, and safe to put in a header, a log line or a URL.
const ACCEPTED_CORRELATION_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function newCorrelationId(): string {
  return randomUUID();
}

/** The caller's correlation id when it is well-formed, otherwise undefined (the caller then makes a new one). */
export function acceptCorrelationId(value: unknown): string | undefined {
  const candidate = Array.isArray(value) ? value[0] : value;
  return typeof candidate === 'string' && ACCEPTED_CORRELATION_ID.test(candidate) ? candidate : undefined;
}

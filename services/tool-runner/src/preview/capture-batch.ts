import { AppError, ErrorCode, type analyticsV1 } from '@overskill/contracts';
import { z } from 'zod';
import { redactSecrets, redactUrl } from './redact-secrets';

// What one stored entry may carry; longer text is cut with a marker.
export const CAPTURE_LIMITS = { message: 2000, source: 300, url: 1000, path: 300, error: 300 } as const;
// A client clock further off than this is not trusted: the server's time is used instead.
const CLOCK_SKEW_MS = 5 * 60_000;

const text = z.string().max(100_000);
const at = z.string().max(40).optional();
const consoleEntry = z.object({
  kind: z.literal('console'),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: text,
  source: text.optional(),
  page: text.optional(),
  count: z.number().int().min(1).max(1_000_000).optional(),
  at,
});
const networkEntry = z.object({
  kind: z.literal('network'),
  method: z.string().regex(/^[A-Za-z]{1,16}$/),
  url: text,
  status: z.number().int().min(0).max(999),
  durationMs: z.number().min(0).max(3_600_000),
  error: text.optional(),
  page: text.optional(),
  at,
});
const pageviewEntry = z.object({
  kind: z.literal('pageview'),
  path: text,
  visitorId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  loadMs: z.number().min(0).max(3_600_000),
  at,
});
const batchSchema = z.object({ events: z.array(z.discriminatedUnion('kind', [consoleEntry, networkEntry, pageviewEntry])).min(1) });

// The facts' own fields; the team and app are added when published.
type FactOf<T> = Omit<T, '$typeName' | '$unknown' | 'teamId' | 'appId'>;
export type ConsoleFact = FactOf<analyticsV1.PreviewConsoleLogged>;
export type NetworkFact = FactOf<analyticsV1.PreviewNetworkRequested>;
export type PageViewFact = FactOf<analyticsV1.PreviewPageViewed>;
export interface CaptureFacts {
  console: ConsoleFact[];
  network: NetworkFact[];
  pageviews: PageViewFact[];
}

function cap(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}… [${value.length - max} more characters]` : value;
}

function occurredAt(value: string | undefined, now: Date): string {
  const t = value ? Date.parse(value) : Number.NaN;
  return Number.isFinite(t) && Math.abs(t - now.getTime()) <= CLOCK_SKEW_MS ? new Date(t).toISOString() : now.toISOString();
}

// One capture batch from a preview page into facts: validated, capped, secrets redacted, and
// identical console entries collapsed into one with a count.
export function parseCaptureBatch(body: string, opts: { maxEvents: number; origin: string; now: Date }): CaptureFacts {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'The capture batch is not JSON');
  }
  const parsed = batchSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(ErrorCode.VALIDATION_FAILED, `Invalid capture batch: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  if (parsed.data.events.length > opts.maxEvents) throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `A capture batch holds at most ${opts.maxEvents} events`);

  const facts: CaptureFacts = { console: [], network: [], pageviews: [] };
  const collapsed = new Map<string, { fact: ConsoleFact; count: number }>();
  const page = (value: string | undefined) => cap(redactUrl(value ?? '', opts.origin), CAPTURE_LIMITS.url);
  for (const e of parsed.data.events) {
    const when = occurredAt(e.at, opts.now);
    if (e.kind === 'console') {
      const fact = {
        level: e.level,
        message: cap(redactSecrets(e.message), CAPTURE_LIMITS.message),
        source: cap(redactUrl(e.source ?? '', opts.origin), CAPTURE_LIMITS.source),
        pageUrl: page(e.page),
        occurredAt: when,
      };
      const key = `${fact.level}\n${fact.message}\n${fact.source}`;
      const seen = collapsed.get(key);
      if (seen) seen.count += e.count ?? 1;
      else collapsed.set(key, { fact, count: e.count ?? 1 });
    } else if (e.kind === 'network') {
      facts.network.push({
        method: e.method.toUpperCase(),
        url: cap(redactUrl(e.url, opts.origin), CAPTURE_LIMITS.url),
        status: e.status,
        durationMs: e.durationMs,
        error: cap(redactSecrets(e.error ?? ''), CAPTURE_LIMITS.error),
        pageUrl: page(e.page),
        occurredAt: when,
      });
    } else {
      facts.pageviews.push({ path: cap(redactUrl(e.path, opts.origin), CAPTURE_LIMITS.path), visitorId: e.visitorId, loadMs: e.loadMs, occurredAt: when });
    }
  }
  for (const { fact, count } of collapsed.values()) facts.console.push(count > 1 ? { ...fact, message: `${fact.message} (×${count})` } : fact);
  return facts;
}

export function factCount(facts: CaptureFacts): number {
  return facts.console.length + facts.network.length + facts.pageviews.length;
}

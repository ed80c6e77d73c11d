import { AppError, ErrorCode } from '@overskill/contracts';
import { CAPTURE_LIMITS, parseCaptureBatch } from './capture-batch';
import { injectCapture } from './capture-script';

const now = new Date('2026-12-04T12:00:00.000Z');
const origin = 'http://abc.preview.localhost:3080';
const parse = (events: unknown[], maxEvents = 100) => parseCaptureBatch(JSON.stringify({ events }), { maxEvents, origin, now });
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof AppError ? err.code : 'other';
  }
};

describe('parseCaptureBatch', () => {
  it('turns console, network and page-view events into facts', () => {
    const facts = parse([
      { kind: 'console', level: 'warn', message: 'slow', source: `${origin}/app.js:3:1`, page: `${origin}/todos`, at: '2026-12-04T11:59:30.000Z' },
      { kind: 'network', method: 'post', url: `${origin}/api/todos?token=abc`, status: 500, durationMs: 12.5, page: `${origin}/` },
      { kind: 'pageview', path: '/todos', visitorId: 'v1', loadMs: 120 },
    ]);
    expect(facts.console).toEqual([{ level: 'warn', message: 'slow', source: '/app.js:3:1', pageUrl: '/todos', occurredAt: '2026-12-04T11:59:30.000Z' }]);
    expect(facts.network).toEqual([
      { method: 'POST', url: '/api/todos?token=[redacted]', status: 500, durationMs: 12.5, error: '', pageUrl: '/', occurredAt: now.toISOString() },
    ]);
    expect(facts.pageviews).toEqual([{ path: '/todos', visitorId: 'v1', loadMs: 120, occurredAt: now.toISOString() }]);
  });

  it('collapses identical console entries into one with a count', () => {
    const error = { kind: 'console', level: 'error', message: 'TypeError: x is undefined', source: 'app.js:1:1' };
    const facts = parse([error, { ...error, count: 5 }, error, { ...error, level: 'warn' }]);
    expect(facts.console.map((f) => [f.level, f.message])).toEqual([
      ['error', 'TypeError: x is undefined (×7)'],
      ['warn', 'TypeError: x is undefined'],
    ]);
  });

  it('caps every entry, redacts secrets, and does not trust a clock far off', () => {
    const [fact] = parse([{ kind: 'console', level: 'info', message: `token=abc ${'x'.repeat(5000)}`, at: '1999-01-01T00:00:00Z' }]).console;
    expect(fact?.message.startsWith('token=[redacted] ')).toBe(true);
    expect(fact?.message.length).toBeLessThan(CAPTURE_LIMITS.message + 40);
    expect(fact?.message).toMatch(/… \[\d+ more characters\]$/);
    expect(fact?.occurredAt).toBe(now.toISOString());
  });

  it('refuses malformed batches with VALIDATION_FAILED and too many events with PAYLOAD_TOO_LARGE', () => {
    expect(codeOf(() => parseCaptureBatch('nope', { maxEvents: 10, origin, now }))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(codeOf(() => parse([]))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(codeOf(() => parse([{ kind: 'shell', cmd: 'rm -rf /' }]))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(codeOf(() => parse([{ kind: 'network', method: 'GET /x HTTP/1.1', url: '/', status: 200, durationMs: 1 }]))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(codeOf(() => parse([{ kind: 'pageview', path: '/', visitorId: '../../etc', loadMs: 1 }]))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(
      codeOf(() =>
        parse(
          Array.from({ length: 3 }, () => ({ kind: 'console', level: 'info', message: 'x' })),
          2,
        ),
      ),
    ).toBe(ErrorCode.PAYLOAD_TOO_LARGE);
  });
});

describe('injectCapture', () => {
  it('puts the script first in <head>, else after <html> or the doctype, else at the start', () => {
    expect(injectCapture('<!doctype html><html lang="en"><head><meta charset="utf-8"><script src="a.js"></script>')).toMatch(
      /^<!doctype html><html lang="en"><head><script data-overskill-capture>[\s\S]*<\/script><meta charset/,
    );
    expect(injectCapture('<HTML><body>x</body></HTML>')).toMatch(/^<HTML><script data-overskill-capture>/);
    expect(injectCapture('<!DOCTYPE html><p>x</p>')).toMatch(/^<!DOCTYPE html><script data-overskill-capture>/);
    expect(injectCapture('<p>x</p>')).toMatch(/^<script data-overskill-capture>[\s\S]*<\/script><p>x<\/p>$/);
  });
});

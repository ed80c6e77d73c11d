import { trace } from '@opentelemetry/api';
import { Writable } from 'node:stream';
import { requestContext } from '../context/request-context';
import { startTracing } from '../tracing/start-tracing';
import { createLogger } from './create-logger';

function captureLines(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  beforeAll(() => {
    startTracing({ service: 'logger-spec' });
  });

  it("writes JSON lines with the operations guide's fields: timestamp, level, component, message", () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ service: 'git-service', destination: stream });
    logger.info({ repo: 'app-1' }, 'committed');
    logger.info({ component: 'RepoController', runId: 'r-1', duration: 12 }, 'timed');

    const [line, timed] = lines();
    expect(line).toMatchObject({ service: 'git-service', component: 'git-service', level: 'INFO', message: 'committed', repo: 'app-1' });
    expect(line['instance']).toEqual(expect.any(String));
    expect(new Date(String(line['timestamp'])).toISOString()).toBe(line['timestamp']);
    expect(line).not.toHaveProperty('msg');
    expect(line).not.toHaveProperty('time');
    expect(line).not.toHaveProperty('traceId');
    expect(line).not.toHaveProperty('correlationId');
    expect(timed).toMatchObject({ component: 'RepoController', runId: 'r-1', duration: 12, message: 'timed' });
  });

  it('adds the active span ids and the request context', async () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ service: 'orchestrator', destination: stream });

    const ids = await requestContext.run({ correlationId: 'corr-1', tenantId: 'team-7' }, () =>
      trace.getTracer('spec').startActiveSpan('work', async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.warn('inside');
        span.end();
        return span.spanContext();
      }),
    );

    const [line] = lines();
    expect(line).toMatchObject({
      level: 'WARN',
      message: 'inside',
      traceId: ids.traceId,
      spanId: ids.spanId,
      correlationId: 'corr-1',
      tenantId: 'team-7',
    });
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.traceId).not.toBe('0'.repeat(32));
  });

  it('redacts keys, tokens, passwords and auth headers', () => {
    const { stream, lines } = captureLines();
    createLogger({ service: 'gateway', destination: stream }).info(
      {
        token: 'top-level-token',
        provider: { apiKey: 'sk-ant-secret', model: 'claude' },
        user: { password: 'hunter2', name: 'ada' },
        req: { headers: { authorization: 'Bearer abc', 'x-api-key': 'osk_live_1', accept: 'application/json' } },
        headers: { 'x-api-key': 'osk_live_2' },
      },
      'request',
    );

    const raw = JSON.stringify(lines()[0]);
    for (const secret of ['top-level-token', 'sk-ant-secret', 'hunter2', 'Bearer abc', 'osk_live_1', 'osk_live_2']) {
      expect(raw).not.toContain(secret);
    }
    expect(lines()[0]).toMatchObject({
      token: '[REDACTED]',
      provider: { apiKey: '[REDACTED]', model: 'claude' },
      user: { password: '[REDACTED]', name: 'ada' },
      req: { headers: { authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', accept: 'application/json' } },
      headers: { 'x-api-key': '[REDACTED]' },
    });
  });

  it('strips URL credentials from logged errors and honours the level', () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ service: 'backup', level: 'warn', destination: stream });
    logger.info('dropped');
    logger.error({ err: new Error('connect to postgres://backup:pa55@db:5432/x refused') }, 'dump failed');

    expect(lines()).toHaveLength(1);
    const err = lines()[0]['err'] as Record<string, unknown>;
    expect(err['message']).toBe('connect to postgres://db:5432/x refused');
    expect(String(err['stack'])).not.toContain('pa55');
    expect(err['type']).toBe('Error');
  });
});

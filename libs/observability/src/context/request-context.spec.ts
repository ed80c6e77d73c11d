import { setTimeout as sleep } from 'node:timers/promises';
import { acceptCorrelationId, newCorrelationId } from './correlation-id';
import { requestContext } from './request-context';

describe('requestContext', () => {
  it('is visible after awaits and inside timers started within run, and gone outside', async () => {
    expect(requestContext.get()).toBeUndefined();

    const seen = await requestContext.run({ correlationId: 'c-1', tenantId: 't-1' }, async () => {
      await sleep(5);
      const fromTimer = await new Promise((resolve) => setTimeout(() => resolve(requestContext.get()), 1));
      return { afterAwait: requestContext.get(), fromTimer };
    });

    expect(seen.afterAwait).toEqual({ correlationId: 'c-1', tenantId: 't-1' });
    expect(seen.fromTimer).toEqual({ correlationId: 'c-1', tenantId: 't-1' });
    expect(requestContext.get()).toBeUndefined();
  });

  it('keeps concurrent requests apart', async () => {
    const read = (id: string, delay: number) =>
      requestContext.run({ correlationId: id }, async () => {
        await sleep(delay);
        return requestContext.get()?.correlationId;
      });
    await expect(Promise.all([read('a', 15), read('b', 1)])).resolves.toEqual(['a', 'b']);
  });
});

describe('correlation ids', () => {
  it('makes random, URL-safe ids', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newCorrelationId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._-]{16,128}$/);
  });

  it('accepts well-formed caller ids and rejects the rest', () => {
    expect(acceptCorrelationId('req-42.abc_DEF')).toBe('req-42.abc_DEF');
    expect(acceptCorrelationId(['first', 'second'])).toBe('first');
    expect(acceptCorrelationId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(acceptCorrelationId('x'.repeat(129))).toBeUndefined();
    expect(acceptCorrelationId('has space')).toBeUndefined();
    expect(acceptCorrelationId('line\nbreak')).toBeUndefined();
    expect(acceptCorrelationId('')).toBeUndefined();
    expect(acceptCorrelationId(undefined)).toBeUndefined();
  });
});

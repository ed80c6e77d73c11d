import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { SharedContextManager } from '../tracing/shared-context-manager';
import { acceptCorrelationId, newCorrelationId } from './correlation-id';
import { contextSlot, contextStorage, requestContext } from './request-context';

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

describe('requestContext and the OpenTelemetry context on one storage', () => {
  const traceKey = createContextKey('test.trace');
  beforeAll(() => context.setGlobalContextManager(new SharedContextManager().enable()));
  afterAll(() => context.disable());

  it('keeps the active trace context when the request context is entered, and the reverse', async () => {
    const seen = await context.with(ROOT_CONTEXT.setValue(traceKey, 'span-a'), () =>
      requestContext.run({ correlationId: 'c-1' }, async () => {
        await sleep(1);
        // A child span's context is made from the active one: the request ids stay.
        return context.with(context.active().setValue(traceKey, 'span-b'), async () => {
          await sleep(1);
          return { trace: context.active().getValue(traceKey), request: requestContext.get() };
        });
      }),
    );
    expect(seen).toEqual({ trace: 'span-b', request: { correlationId: 'c-1' } });
    expect(context.active().getValue(traceKey)).toBeUndefined();
    expect(requestContext.get()).toBeUndefined();
  });

  it('enters both in one step with runIn, on the storage the context manager reads', async () => {
    const seen = await requestContext.runIn(ROOT_CONTEXT.setValue(traceKey, 'span-c'), { correlationId: 'c-2', tenantId: 't-2' }, async () => {
      await sleep(1);
      return { trace: context.active().getValue(traceKey), request: requestContext.get(), same: contextStorage.getStore() === context.active() };
    });
    expect(seen).toEqual({ trace: 'span-c', request: { correlationId: 'c-2', tenantId: 't-2' }, same: true });
  });

  it('survives the API disabling its context manager (the storage belongs to the request context)', async () => {
    context.disable();
    const seen = await requestContext.run({ correlationId: 'c-3' }, async () => {
      await sleep(1);
      return requestContext.get();
    });
    expect(seen).toEqual({ correlationId: 'c-3' });
    context.setGlobalContextManager(new SharedContextManager().enable());
  });

  it('carries a slot’s value below its run, beside the request ids and through child contexts, and nowhere else', async () => {
    const slot = contextSlot<{ n: number }>('test.slot');
    const value = { n: 1 };
    const seen = await requestContext.run({ correlationId: 'c-4' }, () =>
      slot.run(value, async () => {
        await sleep(1);
        return context.with(context.active().setValue(traceKey, 'span-d'), async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return { slot: slot.get(), request: requestContext.get(), trace: context.active().getValue(traceKey) };
        });
      }),
    );
    expect(seen.slot).toBe(value);
    expect(seen).toMatchObject({ request: { correlationId: 'c-4' }, trace: 'span-d' });
    expect(slot.get()).toBeUndefined();
    expect(await slot.run({ n: 2 }, async () => slot.get())).toEqual({ n: 2 });
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

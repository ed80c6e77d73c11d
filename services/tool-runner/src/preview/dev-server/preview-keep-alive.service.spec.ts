import { randomUUID } from 'node:crypto';
import type { DevStateRepository } from './dev-state.repository';
import { PreviewKeepAliveService } from './preview-keep-alive.service';

// The service with a fake state repository that records what reaches Redis.
describe('PreviewKeepAliveService', () => {
  let writes: Array<[string, number]>;
  let fail: boolean;
  const keepAlive = (idleStopMs = 600_000) =>
    new PreviewKeepAliveService(
      {
        touch: jest.fn(async (appId: string, at: number) => {
          writes.push([appId, at]);
          if (fail) throw new Error('redis down');
        }),
      } as unknown as DevStateRepository,
      { idleStopMs },
    );

  beforeEach(() => {
    writes = [];
    fail = false;
  });

  it('writes an app at once, then at most every 5 s however many tool calls come', () => {
    const service = keepAlive();
    const [a, b] = [randomUUID(), randomUUID()];
    for (let t = 0; t <= 12_000; t += 100) service.touch(a, 1_000_000 + t);
    service.touch(b, 1_000_050);
    expect(writes).toEqual([
      [a, 1_000_000],
      [a, 1_005_000],
      [a, 1_010_000],
      [b, 1_000_050],
    ]);
  });

  it('writes at once when forced (a restart), and counts the interval from there', () => {
    const service = keepAlive();
    const a = randomUUID();
    service.touch(a, 0);
    service.touch(a, 1000, true);
    service.touch(a, 5500);
    service.touch(a, 6000);
    expect(writes.map(([, at]) => at)).toEqual([0, 1000, 6000]);
  });

  it('writes every quarter of a short idle stop', () => {
    const service = keepAlive(4000);
    const a = randomUUID();
    for (let t = 0; t <= 2500; t += 100) service.touch(a, t + 1);
    expect(writes.map(([, at]) => at)).toEqual([1, 1001, 2001]);
  });

  it('ignores what is not an app id, and survives a failed write', async () => {
    const service = keepAlive();
    service.touch('../etc', 1);
    service.touch('', 1);
    expect(writes).toEqual([]);
    fail = true;
    const a = randomUUID();
    service.touch(a, 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([[a, 1]]);
  });

  it('stays bounded: at 10,000 apps, a new one makes it forget those written before the interval', () => {
    const service = keepAlive();
    const tracked = () => (service as unknown as { written: Map<string, number> }).written.size;
    const old = Array.from({ length: 10_000 }, () => randomUUID());
    old.forEach((appId, i) => service.touch(appId, i < 5000 ? 0 : 8000));
    expect(tracked()).toBe(10_000);
    const fresh = randomUUID();
    service.touch(fresh, 10_000);
    // Those written at 0 are gone; those written at 8,000 (within 5 s) are kept, and still throttled.
    expect(tracked()).toBe(5001);
    const before = writes.length;
    service.touch(old[9999]!, 10_001);
    service.touch(fresh, 10_002);
    expect(writes.length).toBe(before);
    service.touch(old[0]!, 10_003);
    expect(writes.at(-1)).toEqual([old[0], 10_003]);
  });
});

import { ErrorCode } from '@overskill/contracts';
import Redis from 'ioredis';
import { AppWriteLock } from './app-write-lock';

// Against the integration stack's real Redis.
describe('AppWriteLock', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const a = new Redis(url);
  const b = new Redis(url);
  const lockA = new AppWriteLock(a);
  const lockB = new AppWriteLock(b);
  afterAll(() => {
    a.disconnect();
    b.disconnect();
  });

  it('serializes work on one app across holders and never interleaves', async () => {
    const events: string[] = [];
    const work = (name: string) => async () => {
      events.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 30));
      events.push(`${name}:end`);
    };
    await Promise.all([lockA.withLock('app-1', work('a')), lockB.withLock('app-1', work('b')), lockA.withLock('app-1', work('c'))]);
    for (let i = 0; i < events.length; i += 2) expect(events[i]!.split(':')[0]).toBe(events[i + 1]!.split(':')[0]);
    expect(events).toHaveLength(6);
  });

  it('lets different apps proceed in parallel', async () => {
    let holding = 0;
    let overlapped = false;
    const work = async () => {
      holding += 1;
      if (holding === 2) overlapped = true;
      await new Promise((r) => setTimeout(r, 200));
      holding -= 1;
    };
    await Promise.all([lockA.withLock('app-2', work), lockB.withLock('app-3', work)]);
    expect(overlapped).toBe(true);
  });

  it('gives up with APP_BUSY after the wait, and frees the app when work throws', async () => {
    let release!: () => void;
    const held = lockA.withLock('app-4', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    await expect(lockB.withLock('app-4', async () => 'never', { waitMs: 100 })).rejects.toMatchObject({ code: ErrorCode.APP_BUSY });
    release();
    await held;
    await expect(
      lockB.withLock('app-4', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(lockA.withLock('app-4', async () => 'free', { waitMs: 100 })).resolves.toBe('free');
  });

  it('renews the lease while work runs, and a crashed holder’s lease expires', async () => {
    const slow = lockA.withLock('app-5', () => new Promise((r) => setTimeout(r, 1500)), { leaseMs: 600 });
    await new Promise((r) => setTimeout(r, 900)); // past one lease: still held thanks to renewal
    await expect(lockB.withLock('app-5', async () => 'x', { waitMs: 50 })).rejects.toMatchObject({ code: ErrorCode.APP_BUSY });
    await slow;
    await a.set('overskill:lock:app:app-6', 'dead-holder', 'PX', 100); // a holder that died
    await expect(lockB.withLock('app-6', async () => 'recovered', { waitMs: 1000 })).resolves.toBe('recovered');
  });

  it('tells a holder whose lock was taken over that it is lost, for good', async () => {
    await lockA.withLock(
      'app-7',
      async (lease) => {
        await expect(lease.assertHeld()).resolves.toBeUndefined();
        // The lease ran out during a pause and another holder took the lock.
        await a.set('overskill:lock:app:app-7', 'other-holder', 'PX', 5000);
        await expect(lease.assertHeld()).rejects.toMatchObject({ code: ErrorCode.APP_LEASE_LOST });
        expect(lease.signal.aborted).toBe(true);
        // Lost is final, even once the other holder is gone.
        await a.del('overskill:lock:app:app-7');
        await expect(lease.assertHeld()).rejects.toMatchObject({ code: ErrorCode.APP_LEASE_LOST });
      },
      { leaseMs: 5000 },
    );
    // Releasing never touches the other holder's lock.
    await a.set('overskill:lock:app:app-8', 'other-holder', 'PX', 5000);
    expect(await a.get('overskill:lock:app:app-8')).toBe('other-holder');
  });

  it('extends the lease with every check, so a write right after a check runs inside a lease', async () => {
    await lockA.withLock(
      'app-9',
      async (lease) => {
        await a.pexpire('overskill:lock:app:app-9', 100);
        await lease.assertHeld();
        expect(await a.pttl('overskill:lock:app:app-9')).toBeGreaterThan(1000);
      },
      { leaseMs: 3000 },
    );
  });
});

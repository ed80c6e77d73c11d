import { headers as natsHeaders, MsgHdrsImpl } from 'nats';
import { headerValue, natsHeaderGetter, setHeader } from './nats-headers';

// The direct reads and writes keep nats.js' own rules: same bytes on the wire, same errors.
describe('NATS headers read and written directly', () => {
  const pairs: Array<[string, string]> = [
    ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['x-correlation-id', '  spaced  '],
    ['x-tenant-id', 'team-1'],
    ['x-tenant-id', 'team-2'],
    ['X-Mixed-Case', ''],
  ];

  it('writes the same headers as nats.js set(), byte for byte', () => {
    const ours = natsHeaders();
    const theirs = natsHeaders();
    for (const [k, v] of pairs) {
      setHeader(ours, k, v);
      theirs.set(k, v);
    }
    expect(Buffer.from((ours as MsgHdrsImpl).encode()).toString()).toBe(Buffer.from((theirs as MsgHdrsImpl).encode()).toString());
    // Decoded on the other side, the reads agree with nats.js' get().
    const received = MsgHdrsImpl.decode((ours as MsgHdrsImpl).encode());
    for (const key of ['traceparent', 'x-correlation-id', 'x-tenant-id', 'X-Mixed-Case', 'x-missing', 'X-Tenant-Id']) {
      const expected = received.has(key) ? received.get(key) : undefined;
      expect([key, natsHeaderGetter.get(received, key)]).toEqual([key, expected]);
      expect([key, headerValue(received, key)]).toEqual([key, expected || undefined]);
    }
  });

  it('refuses what nats.js refuses: a value with a line break, a key with a colon or a space', () => {
    const h = natsHeaders();
    expect(() => setHeader(h, 'x-correlation-id', 'a\r\nx-tenant-id: other')).toThrow(/invalid header value/);
    expect(() => setHeader(h, 'x-bad:key', 'v')).toThrow(/not a valid character/);
    expect(() => setHeader(h, 'x bad', 'v')).toThrow(/not a valid character/);
    expect(h.keys()).toEqual([]);
  });

  it('reads nothing from absent headers', () => {
    expect(headerValue(undefined, 'x-tenant-id')).toBeUndefined();
    expect(natsHeaderGetter.get(undefined, 'traceparent')).toBeUndefined();
  });
});

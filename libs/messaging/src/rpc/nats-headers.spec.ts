import { headers as natsHeaders, MsgHdrsImpl, type Msg } from 'nats';
import { MsgImpl } from 'nats/lib/nats-base-client/msg';
import { headerValue, messageHeaders, natsHeaderGetter, setHeader } from './nats-headers';

// A received message as nats.js' parser hands it over: header bytes, then the payload. The parser
// gives a Buffer into its read buffer (`inBuffer`), or a plain Uint8Array for a message that spanned reads.
function received(headerText: string | Uint8Array, payload = new Uint8Array([1, 2, 3]), inBuffer = false): Msg {
  const hdr = typeof headerText === 'string' ? Buffer.from(headerText, 'utf8') : Buffer.from(headerText);
  const data = inBuffer
    ? Buffer.alloc(hdr.length + payload.length + 16).subarray(7, 7 + hdr.length + payload.length)
    : new Uint8Array(hdr.length + payload.length);
  data.set(hdr);
  data.set(payload, hdr.length);
  return new MsgImpl({ subject: Buffer.from('a.b'), reply: Buffer.from('r'), sid: 1, hdr: hdr.length, size: data.length } as never, data, {} as never) as Msg;
}

function shape(decode: () => MsgHdrsImpl | undefined): unknown {
  try {
    const h = decode();
    return h ? { entries: [...h.headers.entries()], code: h.code, description: h.description } : undefined;
  } catch (err) {
    return { error: (err as Error).message };
  }
}

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

  it('decodes a received message’s headers as nats.js does, or leaves them to nats.js', () => {
    const cases: Array<string | Uint8Array> = [
      'NATS/1.0\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nx-correlation-id: c-1\r\nx-tenant-id:  t \r\n\r\n',
      'NATS/1.0\r\nx-tenant-id: a\r\nx-tenant-id: b\r\nX-Tenant-Id: c\r\n\r\n',
      'NATS/1.0\r\nempty:\r\nno colon here\r\nk:v:w\r\n\r\n',
      'NATS/1.0\r\n\r\n',
      'NATS/1.0 503\r\n\r\n',
      'NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n',
      'NATS/1.0\r\nx-name: zoë\r\n\r\n',
      'NATS/1.0\r\nbad key: v\r\n\r\n',
      'NATS/1.0\r\n: no key\r\n\r\n',
      'NATS/1.0\r\nx-tab: a\tb\r\n\r\n',
      'NATS/1.0\r\nk: no final line break',
      'NATS/1.0\r\nk: v\r',
      'NATS/1.0',
      'NATS/1.0\r\n',
      'NATS/1.00\r\nk: v\r\n\r\n',
      'NATS/1.0\r\nk\r: v\r\n\r\n',
      'NATS/1.0\r\nk\n: v\r\n\r\n',
      'NATS/1.0\r\nfirst\r\nsecond: has: colons \r\n\r\n',
      'NATS/1.0\r\n~!key#$: v\r\n\r\n',
      'NATS/1.0\r\nk: \x0b\f v\t w \r\n\r\n',
      'NATS/1.0\r\nk:\r\nk:  \r\n\r\n',
      'NATS/1.0\r',
      'NATS/1.1\r\nk: v\r\n\r\n',
      'NATS/1.0\r\nk: a\rb\nc\r\n\r\n',
      'NATS/1.0\r\nk: a\rb\r\n\r\n',
      'NATS/1.0\r\nk: a\nb\r\n\r\n',
      new Uint8Array([...Buffer.from('NATS/1.0\r\nx-bin: '), 0xff, 0xfe, ...Buffer.from('\r\n\r\n')]),
    ];
    for (const [c, inBuffer] of cases.flatMap((c) => [[c, false] as const, [c, true] as const])) {
      const msg = received(c, undefined, inBuffer);
      const bytes = (msg as unknown as { _rdata: Uint8Array })._rdata.subarray(0, (msg as unknown as { _msg: { hdr: number } })._msg.hdr);
      const expected = shape(() => MsgHdrsImpl.decode(bytes));
      expect([String(c), inBuffer, shape(() => messageHeaders(msg) as MsgHdrsImpl)]).toEqual([String(c), inBuffer, expected]);
      // The message keeps what was decoded, and its payload is untouched.
      if (!(expected as { error?: string }).error) expect(msg.headers).toBe(messageHeaders(msg));
      expect([...msg.data]).toEqual([1, 2, 3]);
    }
    expect(messageHeaders(received(new Uint8Array(0)))).toEqual(received(new Uint8Array(0)).headers);
    // A block ending in CR before a payload starting with LF.
    const straddling = received('NATS/1.0\r\nk: v\r', new Uint8Array([0x0a, 1]), true);
    expect(shape(() => messageHeaders(straddling) as MsgHdrsImpl)).toEqual(shape(() => MsgHdrsImpl.decode(Buffer.from('NATS/1.0\r\nk: v\r'))));
  });

  it('reads nothing from absent headers', () => {
    expect(headerValue(undefined, 'x-tenant-id')).toBeUndefined();
    expect(natsHeaderGetter.get(undefined, 'traceparent')).toBeUndefined();
    const bare = new MsgImpl(
      { subject: Buffer.from('a.b'), reply: Buffer.from('r'), sid: 1, hdr: -1, size: 1 } as never,
      new Uint8Array([7]),
      {} as never,
    ) as Msg;
    expect(messageHeaders(bare)).toBeUndefined();
  });
});

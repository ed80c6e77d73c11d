import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { MsgHdrsImpl, type Msg, type MsgHdrs } from 'nats';

// Header names carried on every NATS message.
export const CORRELATION_ID_HEADER = 'x-correlation-id';
export const TENANT_ID_HEADER = 'x-tenant-id';
// Set on error replies only; the body is then a common.v1.Error.
export const ERROR_CODE_HEADER = 'x-error-code';

// nats.js' own get/has/set list and filter every key on each call and validate the key twice; a
// message carries three to five headers read or written on every hop. These read and write nats.js'
// header map directly with the same rules: exact key match, a key of printable ASCII without ':',
// a value without CR or LF (trimmed, as nats.js stores it). Anything else goes through nats.js.
const VALID_KEY = /^[!-9;-~]+$/;
const LINE_BREAK = /[\r\n]/;

export function setHeader(headers: MsgHdrs, key: string, value: string): void {
  if (headers instanceof MsgHdrsImpl && VALID_KEY.test(key) && !LINE_BREAK.test(value)) headers.headers.set(key, [value.trim()]);
  else headers.set(key, value);
}

// The header's first value, or undefined when it is absent or empty.
export function headerValue(headers: MsgHdrs | undefined, key: string): string | undefined {
  if (!headers) return undefined;
  const value = headers instanceof MsgHdrsImpl ? headers.headers.get(key)?.[0] : headers.has(key) ? headers.get(key) : undefined;
  return value ? value : undefined;
}

// A received message's headers. nats.js decodes them with TextDecoder and adds each one through
// set()'s checks; a request carries three to five. Plain ASCII headers under a bare `NATS/1.0` line
// are read here into the same map (same keys, trimmed values, repeats kept in order); a status line,
// any other byte or a key nats.js would refuse goes through nats.js' decoder as before.
export function messageHeaders(msg: Msg): MsgHdrs | undefined {
  const raw = msg as unknown as { _headers?: MsgHdrs; _msg?: { hdr?: number }; _rdata?: Uint8Array };
  const length = raw._msg?.hdr;
  if (raw._headers || length === undefined || length < 0 || !raw._rdata) return msg.headers;
  const decoded = decodeAsciiHeaders(raw._rdata, length);
  if (!decoded) return msg.headers;
  raw._headers = decoded; // msg.headers (Nest's NatsContext among its readers) returns these
  return decoded;
}

const STATUS_LINE = Buffer.from('NATS/1.0', 'latin1');
// Where the first header line starts, after `NATS/1.0\r\n`.
const FIRST_LINE = STATUS_LINE.length + 2;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;

// Lines, colons, key checks and trimming are found on the bytes; the strings are cut from one latin1
// text of the block. Between two messages the event loop runs the socket and nats.js' parser, so
// each builtin (split, a regex, indexOf) is paid cold: this form costs about half the string-based one.
function decodeAsciiHeaders(data: Uint8Array, length: number): MsgHdrsImpl | undefined {
  if (length > data.length || length < STATUS_LINE.length) return undefined;
  for (let i = 0; i < STATUS_LINE.length; i++) if (data[i] !== STATUS_LINE[i]) return undefined;
  if (length > STATUS_LINE.length && (length < FIRST_LINE || data[FIRST_LINE - 2] !== CR || data[FIRST_LINE - 1] !== LF)) return undefined;
  for (let i = FIRST_LINE; i < length; i++) if ((data[i] as number) > 0x7e) return undefined;
  // The parser hands over a Buffer; wrapping an ArrayBuffer in a new one costs more than the rest.
  const bytes = data instanceof Buffer ? data : Buffer.from(data.buffer, data.byteOffset, length);
  const text = bytes.toString('latin1', 0, length);
  const headers = new MsgHdrsImpl();
  let start = FIRST_LINE;
  while (start < length) {
    let end = start;
    let colon = -1;
    let keyBytesValid = true;
    for (; end < length; end++) {
      const byte = data[end] as number;
      if (byte === CR && data[end + 1] === LF) break; // a last CR may meet the payload's LF: trimmed either way
      if (colon >= 0) continue;
      if (byte === COLON) colon = end;
      else if (byte < 0x21) keyBytesValid = false;
    }
    // A line without a colon is skipped, as nats.js does; a key or value it refuses goes back to it.
    if (colon >= 0) {
      if (colon === start || !keyBytesValid) return undefined;
      let from = colon + 1;
      let to = end;
      while (from < to && isAsciiSpace(data[from] as number)) from++;
      while (to > from && isAsciiSpace(data[to - 1] as number)) to--;
      for (let i = from; i < to; i++) if (data[i] === CR || data[i] === LF) return undefined; // nats.js throws on these
      const key = text.slice(start, colon);
      const value = text.slice(from, to);
      const values = headers.headers.get(key);
      if (values) values.push(value);
      else headers.headers.set(key, [value]);
    }
    start = end + 2;
  }
  return headers;
}

// What String.prototype.trim removes, among bytes up to 0x7e.
function isAsciiSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

export const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    setHeader(carrier, key, value);
  },
};

export const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys(carrier) {
    return carrier ? carrier.keys() : [];
  },
  get(carrier, key) {
    if (!carrier) return undefined;
    if (carrier instanceof MsgHdrsImpl) return carrier.headers.get(key)?.[0];
    return carrier.has(key) ? carrier.get(key) : undefined;
  },
};

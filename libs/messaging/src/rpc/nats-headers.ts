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
// are split here into the same map (same keys, trimmed values, repeats kept in order); a status line,
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

function decodeAsciiHeaders(data: Uint8Array, length: number): MsgHdrsImpl | undefined {
  if (length > data.length) return undefined;
  // Indexed loops: no iterator over the bytes, no copy of the lines.
  for (let i = 0; i < length; i++) if ((data[i] as number) > 0x7e) return undefined;
  const lines = Buffer.from(data.buffer, data.byteOffset, length).toString('latin1').split('\r\n');
  if (lines[0] !== 'NATS/1.0') return undefined;
  const headers = new MsgHdrsImpl();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon < 0) continue; // nats.js skips such a line too
    const key = line.slice(0, colon);
    if (!VALID_KEY.test(key)) return undefined;
    const value = line.slice(colon + 1).trim();
    const values = headers.headers.get(key);
    if (values) values.push(value);
    else headers.headers.set(key, [value]);
  }
  return headers;
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

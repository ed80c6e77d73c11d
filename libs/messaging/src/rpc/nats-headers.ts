import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { MsgHdrsImpl, type MsgHdrs } from 'nats';

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

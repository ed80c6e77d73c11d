import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { encodeInit } from './protobuf-encoder';

// A reply that is the same for every caller while the service runs (a catalog fixed at boot) is
// written once: the value is frozen, all the way down, so the bytes kept for it cannot go stale,
// and encodeMessage answers with those bytes when a handler returns that same value again.
const encoded = new WeakMap<object, { schema: DescMessage; bytes: Uint8Array }>();

export function encodedOnce<Desc extends DescMessage>(schema: Desc, value: MessageInitShape<Desc>): MessageInitShape<Desc> {
  deepFreeze(value);
  encoded.set(value as object, { schema, bytes: encodeInit(schema, value) });
  return value;
}

// The bytes kept for this value as this message type, if any.
export function encodedBytes(schema: DescMessage, value: unknown): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const kept = encoded.get(value);
  return kept?.schema === schema ? kept.bytes : undefined;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  // A byte array cannot be frozen: a value holding one is not a fixed reply.
  if (ArrayBuffer.isView(value)) throw new TypeError('encodedOnce: a value with bytes fields cannot be frozen');
  for (const v of Object.values(value)) deepFreeze(v);
  Object.freeze(value);
}

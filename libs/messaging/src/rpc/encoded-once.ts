import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { keepBytes } from './kept-bytes';
import { encodeInit } from './protobuf-encoder';

// A value that stays the same while the service runs (a catalog fixed at boot, a turn of a
// conversation sent again with every later request) is written once: the value is frozen, all the
// way down, so the bytes kept for it cannot go stale. encodeMessage answers with those bytes when
// that same value is sent again, and the encoder copies them where it is nested in another message.
export function encodedOnce<Desc extends DescMessage>(schema: Desc, value: MessageInitShape<Desc>): MessageInitShape<Desc> {
  deepFreeze(value);
  keepBytes(schema, value as object, encodeInit(schema, value));
  return value;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  // A byte array cannot be frozen: a value holding one is not a fixed reply.
  if (ArrayBuffer.isView(value)) throw new TypeError('encodedOnce: a value with bytes fields cannot be frozen');
  for (const v of Object.values(value)) deepFreeze(v);
  Object.freeze(value);
}

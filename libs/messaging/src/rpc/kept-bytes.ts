import type { DescMessage } from '@bufbuild/protobuf';

// Bytes written once for a frozen value (see encoded-once.ts), by the message type they were
// written as. The encoder copies them where that value appears, at the top or nested in another
// message, instead of walking it again. Only a frozen value is looked up: one that can still
// change is never answered from here.
const kept = new WeakMap<object, { schema: DescMessage; bytes: Uint8Array }>();

export function keepBytes(schema: DescMessage, value: object, bytes: Uint8Array): void {
  kept.set(value, { schema, bytes });
}

export function keptBytes(schema: DescMessage, value: unknown): Uint8Array | undefined {
  if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return undefined;
  const entry = kept.get(value);
  return entry?.schema === schema ? entry.bytes : undefined;
}

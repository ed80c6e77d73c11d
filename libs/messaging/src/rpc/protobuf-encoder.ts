import { create, toBinary, type DescField, type DescMessage, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { keptBytes } from './kept-bytes';
import { scalarKind, SHORT_STRING, type Kind } from './protobuf-kinds';

// Binary protobuf written once into one buffer of the exact size: a first pass sizes the message
// (nested lengths kept in traversal order), a second writes it. protobuf-es' toBinary forks a
// chunk list per nested message, encodes each string to its own array and copies everything
// again at the end; for a typical reply that is most of its cost. The bytes are the same as
// toBinary's (fields by number, the same presence rules). Anything this writer does not cover —
// map, fixed/zigzag/float fields, groups, required fields, unknown fields, a value of the wrong
// type or out of range — falls back to toBinary, which encodes it or throws its own error.

const IMPLICIT = 2; // google.protobuf.FeatureSet.FieldPresence.IMPLICIT
const WIRE_VARINT = 0;
const WIRE_BIT64 = 1;
const WIRE_LENGTH = 2;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

interface FieldPlan {
  field: DescField;
  kind: Kind;
  tag: number;
  list: boolean;
  packed: boolean;
  implicit: boolean;
  oneof?: string;
  enumZero: number;
}

// Thrown inside a pass when the writer does not cover something; never leaves this file.
const UNSUPPORTED = Symbol('unsupported');

const plans = new WeakMap<DescMessage, FieldPlan[] | null>();

function wireType(kind: Kind): number {
  if (kind === 'string' || kind === 'bytes' || kind === 'message') return WIRE_LENGTH;
  return kind === 'double' ? WIRE_BIT64 : WIRE_VARINT;
}

function planFor(desc: DescMessage): FieldPlan[] | null {
  let plan = plans.get(desc);
  if (plan !== undefined) return plan;
  plan = [];
  for (const field of desc.fields.slice().sort((a, b) => a.number - b.number)) {
    let kind: Kind | undefined;
    let list = false;
    if (field.fieldKind === 'scalar') kind = scalarKind(field.scalar);
    else if (field.fieldKind === 'enum') kind = 'enum';
    else if (field.fieldKind === 'message') kind = field.delimitedEncoding ? undefined : 'message';
    else if (field.fieldKind === 'list') {
      list = true;
      if (field.listKind === 'scalar') kind = scalarKind(field.scalar);
      else if (field.listKind === 'enum') kind = 'enum';
      else kind = field.delimitedEncoding ? undefined : 'message';
    }
    if (!kind || field.presence === 3) {
      plan = null;
      break;
    }
    const packed = field.fieldKind === 'list' && field.packed && kind !== 'string' && kind !== 'bytes' && kind !== 'message';
    plan.push({
      field,
      kind,
      tag: field.number * 8 + (packed ? WIRE_LENGTH : wireType(kind)),
      list,
      packed,
      implicit: field.presence === IMPLICIT,
      oneof: field.oneof?.localName,
      enumZero: field.fieldKind === 'enum' ? (field.enum.values[0]?.number ?? 0) : 0,
    });
  }
  plans.set(desc, plan);
  return plan;
}

// The value of a field the message sets, or undefined, by protobuf-es' own presence rules.
function valueOf(message: Record<string, unknown>, p: FieldPlan): unknown {
  const name = p.field.localName;
  if (p.oneof !== undefined) {
    const group = message[p.oneof] as { case?: string; value?: unknown } | undefined;
    return group?.case === name ? group.value : undefined;
  }
  const value = message[name];
  if (p.list) {
    if (value === undefined) return undefined; // an init shape may leave a list out
    if (!Array.isArray(value)) throw UNSUPPORTED;
    return value.length > 0 ? value : undefined;
  }
  if (!p.implicit) return value !== undefined && Object.prototype.hasOwnProperty.call(message, name) ? value : undefined;
  switch (p.kind) {
    case 'bool':
      return value === false ? undefined : value;
    case 'string':
      return value === '' ? undefined : value;
    case 'bytes':
      return value instanceof Uint8Array && !value.byteLength ? undefined : value;
    case 'double':
      return Object.is(value, 0) ? undefined : value;
    case 'enum':
      return value === p.enumZero ? undefined : value;
    default:
      // Loose, as protobuf-es: matches 0, 0n and "0".
      return value == 0 ? undefined : value;
  }
}

function varintSize(n: number): number {
  if (n < 0) return 10;
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  for (let rest = Math.floor(n / 2 ** 35); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

function int64Of(value: unknown, unsigned: boolean): bigint {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if ((typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value))) big = BigInt(value);
  else throw UNSUPPORTED;
  if (unsigned ? big < 0n || big > UINT64_MAX : big < INT64_MIN || big > INT64_MAX) throw UNSUPPORTED;
  return BigInt.asUintN(64, big);
}

function bigVarintSize(big: bigint): number {
  let size = 1;
  for (let rest = big >> 7n; rest > 0n; rest >>= 7n) size++;
  return size;
}

// Size of one value without its tag. The sizes a second pass needs (string byte lengths, nested
// message and packed list lengths) are pushed in the order the writer reads them.
function valueSize(p: FieldPlan, value: unknown, sizes: number[]): number {
  switch (p.kind) {
    case 'string': {
      if (typeof value !== 'string') throw UNSUPPORTED;
      const length = utf8Length(value);
      sizes.push(length);
      return lengthPrefixed(length);
    }
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw UNSUPPORTED;
      return lengthPrefixed(value.byteLength);
    case 'bool':
      return 1;
    case 'double':
      if (typeof value !== 'number') throw UNSUPPORTED;
      return 8;
    case 'int32':
    case 'enum':
      if (typeof value !== 'number' || !Number.isInteger(value) || value > 0x7fffffff || value < -0x80000000) throw UNSUPPORTED;
      return varintSize(value);
    case 'uint32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value > 0xffffffff || value < 0) throw UNSUPPORTED;
      return varintSize(value);
    case 'int64':
    case 'uint64':
      return bigVarintSize(int64Of(value, p.kind === 'uint64'));
    case 'message': {
      const kept = keptBytes(p.field.message as DescMessage, value);
      if (kept) return lengthPrefixed(kept.byteLength);
      const slot = sizes.length;
      sizes.push(0);
      const size = messageSize(p.field.message as DescMessage, value as Record<string, unknown>, sizes);
      sizes[slot] = size;
      return lengthPrefixed(size);
    }
  }
}

// ASCII, and only ASCII, takes one byte per UTF-16 unit: any other unit takes two or more (a lone
// surrogate three, a pair four).
function utf8Length(text: string): number {
  const n = text.length;
  if (n <= SHORT_STRING) {
    let i = 0;
    while (i < n && text.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  return Buffer.byteLength(text, 'utf8');
}

function lengthPrefixed(length: number): number {
  return varintSize(length) + length;
}

function messageSize(desc: DescMessage, message: Record<string, unknown>, sizes: number[]): number {
  const plan = planFor(desc);
  if (!plan || typeof message !== 'object' || message === null || (message.$unknown as unknown[] | undefined)?.length) throw UNSUPPORTED;
  let size = 0;
  for (const p of plan) {
    const value = valueOf(message, p);
    if (value === undefined) continue;
    const tagSize = varintSize(p.tag);
    if (!p.list) {
      size += tagSize + valueSize(p, value, sizes);
      continue;
    }
    const items = value as unknown[];
    if (p.packed) {
      let body = 0;
      for (const item of items) body += valueSize(p, item, sizes);
      sizes.push(body);
      size += tagSize + lengthPrefixed(body);
    } else {
      for (const item of items) size += tagSize + valueSize(p, item, sizes);
    }
  }
  return size;
}

class Writer {
  pos = 0;
  next = 0;

  constructor(
    readonly buf: Buffer,
    readonly sizes: number[],
  ) {}

  // The sizing pass pushed these in the order the writer needs them.
  nextSize(): number {
    return this.sizes[this.next++] ?? 0;
  }

  varint(n: number): void {
    const buf = this.buf;
    if (n < 0) {
      // A negative int32 is written as its 64-bit two's complement: ten bytes.
      this.bigVarint(BigInt.asUintN(64, BigInt(n)));
      return;
    }
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  bigVarint(big: bigint): void {
    const buf = this.buf;
    while (big >= 0x80n) {
      buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    buf[this.pos++] = Number(big);
  }

  value(p: FieldPlan, value: unknown): void {
    switch (p.kind) {
      case 'string': {
        const length = this.nextSize();
        const text = value as string;
        this.varint(length);
        if (length === text.length && length <= SHORT_STRING) {
          // ASCII (one byte per unit, see utf8Length): the units are the bytes.
          const buf = this.buf;
          for (let i = 0; i < length; i++) buf[this.pos + i] = text.charCodeAt(i);
          this.pos += length;
        } else {
          this.pos += this.buf.write(text, this.pos, length, 'utf8');
        }
        return;
      }
      case 'bytes': {
        const bytes = value as Uint8Array;
        this.varint(bytes.byteLength);
        this.buf.set(bytes, this.pos);
        this.pos += bytes.byteLength;
        return;
      }
      case 'bool':
        this.buf[this.pos++] = value ? 1 : 0;
        return;
      case 'double':
        this.pos = this.buf.writeDoubleLE(value as number, this.pos);
        return;
      case 'int32':
      case 'enum':
      case 'uint32':
        this.varint(value as number);
        return;
      case 'int64':
      case 'uint64':
        this.bigVarint(int64Of(value, p.kind === 'uint64'));
        return;
      case 'message': {
        const kept = keptBytes(p.field.message as DescMessage, value);
        if (kept) {
          this.varint(kept.byteLength);
          this.buf.set(kept, this.pos);
          this.pos += kept.byteLength;
          return;
        }
        this.varint(this.nextSize());
        this.message(p.field.message as DescMessage, value as Record<string, unknown>);
        return;
      }
    }
  }

  message(desc: DescMessage, message: Record<string, unknown>): void {
    for (const p of planFor(desc) ?? []) {
      const value = valueOf(message, p);
      if (value === undefined) continue;
      if (!p.list) {
        this.varint(p.tag);
        this.value(p, value);
      } else if (p.packed) {
        this.varint(p.tag);
        this.varint(this.nextSize());
        for (const item of value as unknown[]) this.value(p, item);
      } else {
        for (const item of value as unknown[]) {
          this.varint(p.tag);
          this.value(p, item);
        }
      }
    }
  }
}

export function encodeProtobuf<Desc extends DescMessage>(schema: Desc, message: Message): Uint8Array {
  return encodeDirect(schema, message) ?? toBinary(schema, message as never);
}

// A message given as its init shape (what a handler returns), written without create() first:
// a left-out field reads as its zero value, which the writer skips as toBinary would. What the
// writer does not cover goes through create() and toBinary as before.
export function encodeInit<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>): Uint8Array {
  return encodeDirect(schema, init as Message) ?? toBinary(schema, create(schema, init));
}

// The message (or init shape) written by this writer, or undefined when it does not cover it.
export function encodeDirect(schema: DescMessage, message: Message): Uint8Array | undefined {
  const sizes: number[] = [];
  let size: number;
  try {
    size = messageSize(schema, message as unknown as Record<string, unknown>, sizes);
  } catch (err) {
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
  const writer = new Writer(Buffer.allocUnsafe(size), sizes);
  writer.message(schema, message as unknown as Record<string, unknown>);
  return writer.buf;
}

import { create, fromBinary, type DescField, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { isAscii } from 'node:buffer';
import { scalarKind, SHORT_STRING, type Kind } from './protobuf-kinds';

// Binary protobuf read in one pass into protobuf-es messages, the reader of protobuf-encoder.ts.
// protobuf-es' fromBinary goes through its reflection API for every field (a reflect wrapper per
// message, a set() per field, a TextDecoder call per string); for a typical reply that is most of
// a client's decoding time. The messages are the ones fromBinary returns (same defaults, same
// last-one-wins, bytes as views of the input). Anything this reader does not cover — unknown
// fields (fromBinary keeps them), a singular message field seen twice (fromBinary merges), map,
// fixed/zigzag/float fields, groups, closed enums, 64-bit fields read as strings, a wire type
// that does not match the field, truncated or invalid input — goes to fromBinary, which decodes
// it or throws its own error.

// How a message of one type is read: its fields by number, and its zero value to copy.
interface MessagePlan {
  fields: Map<number, ReadPlan>;
  // create(desc) once; each message starts as a copy of it (a spread copies the object's shape in
  // one step, where create() sets each field through its descriptor), with its mutable values
  // (empty lists and bytes, unset oneofs) made anew. undefined: create() per message.
  zero: Record<string, unknown> | undefined;
  fresh: Array<[key: string, make: () => unknown]>;
}

interface ReadPlan {
  kind: Kind;
  name: string;
  list: boolean;
  oneof?: string;
  // proto3 strings must be valid UTF-8 (fromBinary throws otherwise).
  strictUtf8: boolean;
  message?: DescMessage;
}

const WIRE_VARINT = 0;
const WIRE_BIT64 = 1;
const WIRE_LENGTH = 2;
const MAX_DEPTH = 64;

// Thrown inside the reader when it does not cover something; never leaves this file.
const UNSUPPORTED = Symbol('unsupported');

const plans = new WeakMap<DescMessage, MessagePlan | null>();
const utf8 = new TextDecoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function kindOf(field: DescField): Kind | undefined {
  if (field.fieldKind === 'scalar') return field.longAsString ? undefined : scalarKind(field.scalar);
  if (field.fieldKind === 'enum') return field.enum.open ? 'enum' : undefined;
  if (field.fieldKind === 'message') return field.delimitedEncoding ? undefined : 'message';
  if (field.fieldKind === 'list') {
    if (field.listKind === 'scalar') return field.longAsString ? undefined : scalarKind(field.scalar);
    if (field.listKind === 'enum') return field.enum.open ? 'enum' : undefined;
    if (field.listKind === 'message') return field.delimitedEncoding ? undefined : 'message';
  }
  return undefined;
}

function planFor(desc: DescMessage): MessagePlan | null {
  let plan = plans.get(desc);
  if (plan !== undefined) return plan;
  const fields = new Map<number, ReadPlan>();
  for (const field of desc.fields) {
    const kind = kindOf(field);
    if (!kind || field.presence === 3) {
      plans.set(desc, null);
      return null;
    }
    fields.set(field.number, {
      kind,
      name: field.localName,
      list: field.fieldKind === 'list',
      oneof: field.oneof?.localName,
      strictUtf8: field.fieldKind !== 'message' && field.utf8Validation,
      message: field.message,
    });
  }
  plan = { fields, ...zeroOf(desc) };
  plans.set(desc, plan);
  return plan;
}

// The zero message as a template, when it is a plain object whose only mutable values are empty
// lists, empty bytes and unset oneofs; otherwise (a prototype chain of defaults) create() per message.
function zeroOf(desc: DescMessage): Pick<MessagePlan, 'zero' | 'fresh'> {
  const zero = create(desc) as unknown as Record<string, unknown>;
  if (Object.getPrototypeOf(zero) !== Object.prototype) return { zero: undefined, fresh: [] };
  const fresh: MessagePlan['fresh'] = [];
  for (const [key, value] of Object.entries(zero)) {
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value) && value.length === 0) fresh.push([key, () => []]);
    else if (value instanceof Uint8Array && value.length === 0) fresh.push([key, () => new Uint8Array(0)]);
    else if (Object.keys(value).length === 1 && 'case' in value && value.case === undefined) fresh.push([key, () => ({ case: undefined })]);
    else return { zero: undefined, fresh: [] };
  }
  return { zero, fresh };
}

// Up to this size a message's ASCII strings are cut from one latin1 text of all its bytes: one
// native call per message instead of one per string. Larger ones (file contents, long outputs)
// convert each string alone, so bytes fields are never turned into text for nothing. V8 makes a
// string of 13 or more characters cut from another a view of it: a decoded message kept for long
// keeps at most this much text alive with it.
const WHOLE_TEXT_MAX = 16 * 1024;

class Reader {
  pos = 0;
  readonly view: Buffer;

  constructor(readonly bytes: Uint8Array) {
    this.view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  // bytes[start, stop), known to be ASCII, as a string.
  private text: string | undefined;
  ascii(start: number, stop: number): string {
    if (this.text === undefined) {
      if (this.bytes.byteLength > WHOLE_TEXT_MAX) return this.view.toString('latin1', start, stop);
      this.text = this.view.toString('latin1');
    }
    return this.text.slice(start, stop);
  }

  // A varint of up to 64 bits as two 32-bit halves; `hi` is left in this.hi.
  hi = 0;
  varint(end: number): number {
    const bytes = this.bytes;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= end) throw UNSUPPORTED;
      const b = bytes[this.pos++] as number;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.hi = 0;
        return lo >>> 0;
      }
    }
    if (this.pos >= end) throw UNSUPPORTED;
    let b = bytes[this.pos++] as number;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    for (let shift = 3; b >= 0x80; shift += 7) {
      if (shift > 31 || this.pos >= end) throw UNSUPPORTED;
      b = bytes[this.pos++] as number;
      hi |= (b & 0x7f) << shift;
    }
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  length(end: number): number {
    const length = this.varint(end);
    if (this.hi !== 0 || this.pos + length > end) throw UNSUPPORTED;
    return length;
  }

  string(end: number, strict: boolean): string {
    const length = this.length(end);
    const start = this.pos;
    const stop = (this.pos += length);
    const view = this.view;
    if (length <= SHORT_STRING) {
      // Ids, names and times: a loop over the bytes, where isAscii would need a view of each.
      const bytes = this.bytes;
      let i = start;
      while (i < stop && (bytes[i] as number) < 0x80) i++;
      if (i === stop) return this.ascii(start, stop);
    } else if (isAscii(view.subarray(start, stop))) {
      return this.ascii(start, stop);
    }
    try {
      return (strict ? strictUtf8 : utf8).decode(this.bytes.subarray(start, stop));
    } catch {
      throw UNSUPPORTED;
    }
  }

  value(p: ReadPlan, wire: number, end: number, depth: number): unknown {
    switch (p.kind) {
      case 'string':
        if (wire !== WIRE_LENGTH) throw UNSUPPORTED;
        return this.string(end, p.strictUtf8);
      case 'bytes': {
        if (wire !== WIRE_LENGTH) throw UNSUPPORTED;
        const length = this.length(end);
        this.pos += length;
        return this.bytes.subarray(this.pos - length, this.pos);
      }
      case 'message': {
        if (wire !== WIRE_LENGTH) throw UNSUPPORTED;
        const length = this.length(end);
        return this.message(p.message as DescMessage, this.pos + length, depth + 1);
      }
      case 'double':
        if (wire !== WIRE_BIT64 || this.pos + 8 > end) throw UNSUPPORTED;
        this.pos += 8;
        return this.view.readDoubleLE(this.pos - 8);
      default:
        if (wire !== WIRE_VARINT) throw UNSUPPORTED;
        return this.scalar(p.kind, end);
    }
  }

  scalar(kind: Kind, end: number): unknown {
    const lo = this.varint(end);
    switch (kind) {
      case 'bool':
        return lo !== 0 || this.hi !== 0;
      case 'uint32':
        return lo;
      case 'int64':
        return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(lo));
      case 'uint64':
        return (BigInt(this.hi) << 32n) | BigInt(lo);
      default:
        // int32 and enums: the low 32 bits, signed.
        return lo | 0;
    }
  }

  message(desc: DescMessage, end: number, depth: number): Record<string, unknown> {
    const plan = planFor(desc);
    if (!plan || depth > MAX_DEPTH) throw UNSUPPORTED;
    const message = plan.zero ? { ...plan.zero } : (create(desc) as unknown as Record<string, unknown>);
    for (const [key, make] of plan.fresh) message[key] = make();
    while (this.pos < end) {
      const tag = this.varint(end);
      if (this.hi !== 0) throw UNSUPPORTED;
      const p = plan.fields.get(tag >>> 3);
      if (!p) throw UNSUPPORTED;
      const wire = tag & 7;
      if (p.list) {
        const list = message[p.name] as unknown[];
        if (wire === WIRE_LENGTH && p.kind !== 'string' && p.kind !== 'bytes' && p.kind !== 'message') {
          // Packed: a run of values in one length-delimited field.
          const packedEnd = this.pos + this.length(end);
          const itemWire = p.kind === 'double' ? WIRE_BIT64 : WIRE_VARINT;
          while (this.pos < packedEnd) list.push(this.value(p, itemWire, packedEnd, depth));
        } else {
          list.push(this.value(p, wire, end, depth));
        }
      } else if (p.oneof !== undefined) {
        const group = message[p.oneof] as { case?: string };
        if (p.kind === 'message' && group.case === p.name) throw UNSUPPORTED;
        message[p.oneof] = { case: p.name, value: this.value(p, wire, end, depth) };
      } else {
        if (p.kind === 'message' && message[p.name] !== undefined) throw UNSUPPORTED;
        message[p.name] = this.value(p, wire, end, depth);
      }
    }
    if (this.pos !== end) throw UNSUPPORTED;
    return message;
  }
}

/** The message fromBinary would return, read without its reflection layer when this reader covers it. */
export function decodeProtobuf<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  return decodeDirect(schema, bytes) ?? fromBinary(schema, bytes);
}

// The message read by this reader, or undefined when it does not cover it.
export function decodeDirect<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> | undefined {
  try {
    return new Reader(bytes).message(schema, bytes.byteLength, 1) as unknown as MessageShape<Desc>;
  } catch (err) {
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
}

import { create, fromBinary, ScalarType, toBinary, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import { commonV1, Events, Rpc, toolV1 } from '@overskill/contracts';
import { encodeDirect, encodeInit, encodeProtobuf } from './protobuf-encoder';

// Every message the bus carries, and every message nested in one.
function busMessages(): DescMessage[] {
  const roots: DescMessage[] = [commonV1.ErrorSchema];
  for (const def of Object.values(Rpc)) roots.push(def.request, def.response);
  for (const event of Object.values(Events)) roots.push(event.message);
  const seen = new Set<DescMessage>();
  const walk = (desc: DescMessage) => {
    if (seen.has(desc)) return;
    seen.add(desc);
    for (const field of desc.fields) if (field.message) walk(field.message);
  };
  roots.forEach(walk);
  return [...seen];
}

// A value for every field, none of them the zero value, variant chosen by `seed`.
function scalarValue(scalar: ScalarType, seed: number): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return ['plain', 'ünïcødé €', 'emoji 😀 and a lone \ud800 surrogate', 'x'.repeat(300)][seed % 4];
    case ScalarType.BYTES:
      return new Uint8Array([0, 1, 254, 255].slice(0, 1 + (seed % 4)));
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return [1.5, -0, 1e300, -2.25][seed % 4];
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return [1n, -1n, 9007199254740993n, -(2n ** 63n)][seed % 4];
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return [1n, 2n ** 64n - 1n, 300n, 2n ** 35n][seed % 4];
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return [1, 0xffffffff, 128, 16384][seed % 4];
    default:
      return [1, -1, 0x7fffffff, -0x80000000][seed % 4];
  }
}

// The init shape a handler would return (plain objects all the way down); `sparse` leaves every
// other field out, oneofs and lists included.
function fillInit(desc: DescMessage, seed: number, depth: number, sparse = false): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  desc.fields.forEach((field, i) => {
    if (sparse && (i + seed) % 2 === 1) return;
    const valueFor = (k: number): unknown => {
      if (field.message) return depth > 0 ? fillInit(field.message, seed + k, depth - 1, sparse) : {};
      if (field.enum) return field.enum.values[field.enum.values.length > 1 ? 1 : 0]!.number;
      return scalarValue(field.scalar!, seed + k);
    };
    if (field.oneof) init[field.oneof.localName] ??= { case: field.localName, value: valueFor(0) };
    else if (field.fieldKind === 'list') init[field.localName] = [valueFor(0), valueFor(1)];
    else if (field.fieldKind === 'map') init[field.localName] = { a: valueFor(0) };
    else init[field.localName] = valueFor(0);
  });
  return init;
}

function fill(desc: DescMessage, seed: number, depth: number): Message {
  const init: Record<string, unknown> = {};
  const oneofsSet = new Set<string>();
  const valueFor = (field: DescField, i: number): unknown => {
    if (field.message) return depth > 0 ? fill(field.message, seed + i, depth - 1) : create(field.message);
    if (field.enum) return field.enum.values[field.enum.values.length > 1 ? 1 : 0]!.number;
    return scalarValue(field.scalar!, seed + i);
  };
  for (const field of desc.fields) {
    if (field.oneof) {
      if (oneofsSet.has(field.oneof.localName)) continue;
      oneofsSet.add(field.oneof.localName);
      init[field.oneof.localName] = { case: field.localName, value: valueFor(field, 0) };
    } else if (field.fieldKind === 'list') {
      init[field.localName] = [valueFor(field, 0), valueFor(field, 1)];
    } else if (field.fieldKind === 'map') {
      init[field.localName] = { a: valueFor(field, 0) };
    } else {
      init[field.localName] = valueFor(field, 0);
    }
  }
  return create(desc, init as never);
}

describe('encodeProtobuf', () => {
  const messages = busMessages();

  it('covers the bus', () => {
    expect(messages.length).toBeGreaterThan(100);
  });

  it.each([0, 1, 2, 3])('writes the bytes toBinary writes, for every bus message filled (variant %i)', (seed) => {
    let direct = 0;
    for (const desc of messages) {
      const message = fill(desc, seed, 2);
      const expected = toBinary(desc, message);
      const actual = encodeDirect(desc, message);
      if (actual) direct++;
      if (Buffer.compare(Buffer.from(actual ?? encodeProtobuf(desc, message)), Buffer.from(expected)) !== 0)
        throw new Error(`${desc.typeName}: bytes differ from toBinary`);
    }
    // The writer itself, not its fallback, wrote nearly all of them (maps, sint/fixed fields fall back).
    expect(direct / messages.length).toBeGreaterThan(0.9);
  });

  it.each([0, 1, 2, 3])('writes an init shape, full or sparse, as toBinary writes the message create() makes of it (variant %i)', (seed) => {
    let direct = 0;
    for (const desc of messages) {
      for (const sparse of [false, true]) {
        const init = fillInit(desc, seed, 2, sparse);
        const expected = toBinary(desc, create(desc, init as never));
        if (encodeDirect(desc, init as unknown as Message)) direct++;
        if (Buffer.compare(Buffer.from(encodeInit(desc, init as never)), Buffer.from(expected)) !== 0)
          throw new Error(`${desc.typeName}${sparse ? ' (sparse)' : ''}: bytes differ from toBinary(create())`);
      }
    }
    expect(direct / (2 * messages.length)).toBeGreaterThan(0.9);
    // An empty init is the empty message.
    for (const desc of messages) expect(encodeInit(desc, {} as never).length).toBe(toBinary(desc, create(desc)).length);
  });

  it('refuses a malformed init shape the way create() and toBinary do', () => {
    const notAList = { tools: 'write_file' } as never;
    expect(() => encodeInit(toolV1.CatalogListResponseSchema, notAList)).toThrow();
    expect(() => toBinary(toolV1.CatalogListResponseSchema, create(toolV1.CatalogListResponseSchema, notAList))).toThrow();
    const nullItem = { tools: [null] } as never;
    let expected: unknown;
    try {
      expected = toBinary(toolV1.CatalogListResponseSchema, create(toolV1.CatalogListResponseSchema, nullItem));
    } catch (err) {
      expected = err;
    }
    if (expected instanceof Error) expect(() => encodeInit(toolV1.CatalogListResponseSchema, nullItem)).toThrow(expected.message);
    else expect(Buffer.from(encodeInit(toolV1.CatalogListResponseSchema, nullItem))).toEqual(Buffer.from(expected as Uint8Array));
  });

  it('writes nothing for an empty message, and skips zero values as toBinary does', () => {
    for (const desc of messages) {
      const empty = create(desc);
      expect(Buffer.from(encodeDirect(desc, empty) ?? encodeProtobuf(desc, empty))).toEqual(Buffer.from(toBinary(desc, empty)));
    }
  });

  it('round-trips a typical reply', () => {
    const reply = create(toolV1.CatalogListResponseSchema, {
      tools: [{ name: 'write_file', description: 'Writes ✓ a file', inputSchemaJson: '{"type":"object"}' }],
    });
    expect(fromBinary(toolV1.CatalogListResponseSchema, encodeDirect(toolV1.CatalogListResponseSchema, reply)!)).toEqual(reply);
  });

  it('refuses what toBinary refuses, with its error, and writes a loosely typed value as toBinary does', () => {
    const bad = create(Rpc.backupCatalogList.request, { limit: 1 });
    (bad as unknown as { limit: unknown }).limit = 1.5;
    expect(() => encodeProtobuf(Rpc.backupCatalogList.request, bad)).toThrow(/cannot encode field .*limit to binary: invalid int32: 1.5/);
    const loose = create(commonV1.ErrorSchema, { code: 'X' });
    (loose as unknown as { message: unknown }).message = 42;
    expect(Buffer.from(encodeProtobuf(commonV1.ErrorSchema, loose))).toEqual(Buffer.from(toBinary(commonV1.ErrorSchema, loose)));
  });

  it('keeps unknown fields, through toBinary', () => {
    const withUnknown = fromBinary(commonV1.ErrorSchema, new Uint8Array([0x0a, 0x01, 0x41, 0xf8, 0x06, 0x07]));
    expect(Buffer.from(encodeProtobuf(commonV1.ErrorSchema, withUnknown))).toEqual(Buffer.from([0x0a, 0x01, 0x41, 0xf8, 0x06, 0x07]));
  });
});

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { commonV1, Rpc, toolV1 } from '@overskill/contracts';
import { busMessages, fill, fillInit } from './__tests__/bus-messages';
import { decodeDirect, decodeProtobuf } from './protobuf-decoder';

// What fromBinary returns, or the message of the error it throws.
function viaFromBinary(desc: Parameters<typeof fromBinary>[0], bytes: Uint8Array): unknown {
  try {
    return fromBinary(desc, bytes);
  } catch (err) {
    return `throws: ${(err as Error).message}`;
  }
}

function viaDecoder(desc: Parameters<typeof fromBinary>[0], bytes: Uint8Array): unknown {
  try {
    return decodeProtobuf(desc, bytes);
  } catch (err) {
    return `throws: ${(err as Error).message}`;
  }
}

describe('decodeProtobuf', () => {
  const messages = busMessages();

  it.each([0, 1, 2, 3])('reads every bus message filled as fromBinary does (variant %i)', (seed) => {
    let direct = 0;
    let total = 0;
    for (const desc of messages) {
      for (const bytes of [toBinary(desc, fill(desc, seed, 2)), toBinary(desc, create(desc, fillInit(desc, seed, 2, true) as never)), new Uint8Array(0)]) {
        total++;
        if (decodeDirect(desc, bytes)) direct++;
        expect(decodeProtobuf(desc, bytes)).toStrictEqual(fromBinary(desc, bytes));
      }
    }
    // The reader itself, not its fallback, read nearly all of them (maps, sint/fixed fields fall back).
    expect(direct / total).toBeGreaterThan(0.9);
  });

  it('reads a typical reply without falling back, strings beyond ASCII included', () => {
    const reply = create(toolV1.CatalogListResponseSchema, {
      tools: [
        { name: 'write_file', description: 'Writes ✓ a file — ünïcødé 😀', inputSchemaJson: '{"type":"object"}' },
        { name: 'read_file', description: '', inputSchemaJson: 'x'.repeat(5000) },
      ],
    });
    const bytes = toBinary(toolV1.CatalogListResponseSchema, reply);
    expect(decodeDirect(toolV1.CatalogListResponseSchema, bytes)).toStrictEqual(reply);
    // A view into a larger buffer, as nats.js hands a message's data over.
    const framed = new Uint8Array(bytes.length + 7);
    framed.set(bytes, 3);
    expect(decodeDirect(toolV1.CatalogListResponseSchema, framed.subarray(3, 3 + bytes.length))).toStrictEqual(reply);
  });

  it('reads strings of every length around the byte-by-byte bound, ASCII or not anywhere in them', () => {
    for (const length of [0, 1, 2, 63, 64, 65, 66, 200]) {
      const ascii = 'a'.repeat(length);
      // A non-ASCII character first, last, and in the middle (ü is two bytes).
      const variants =
        length < 2 ? [ascii] : [ascii, `ü${ascii.slice(2)}`, `${ascii.slice(2)}ü`, `${ascii.slice(0, length >> 1)}ü${ascii.slice((length >> 1) + 2)}`];
      for (const name of variants) {
        const reply = create(toolV1.CatalogListResponseSchema, { tools: [{ name, description: '✓', inputSchemaJson: name }] });
        const bytes = toBinary(toolV1.CatalogListResponseSchema, reply);
        expect(decodeDirect(toolV1.CatalogListResponseSchema, bytes)).toStrictEqual(reply);
      }
    }
  });

  it('gives every message its own lists, bytes and oneofs: changing one never shows in the next', () => {
    let checked = 0;
    for (const desc of messages) {
      const first = decodeDirect(desc, new Uint8Array(0)) as Record<string, unknown> | undefined;
      if (!first) continue;
      const mutable = Object.keys(first).filter((key) => typeof first[key] === 'object' && first[key] !== null);
      for (const key of mutable) {
        const value = first[key];
        if (Array.isArray(value)) value.push('changed');
        else if (!(value instanceof Uint8Array)) (value as { case?: string }).case = 'changed';
      }
      const second = decodeDirect(desc, new Uint8Array(0)) as Record<string, unknown>;
      expect([desc.typeName, second]).toStrictEqual([desc.typeName, create(desc)]);
      for (const key of mutable) expect([desc.typeName, key, second[key] === first[key]]).toEqual([desc.typeName, key, false]);
      checked += mutable.length;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('reads a message larger than the whole-text bound string by string, as fromBinary does', () => {
    const long = 'y'.repeat(9000);
    const reply = create(toolV1.CatalogListResponseSchema, {
      tools: [
        { name: 'short', description: long, inputSchemaJson: `${long}ü` },
        { name: 'ünï', description: 'a-name-of-exactly-thirty-chars', inputSchemaJson: '{}' },
      ],
    });
    const bytes = toBinary(toolV1.CatalogListResponseSchema, reply);
    expect(bytes.length).toBeGreaterThan(16 * 1024);
    expect(decodeDirect(toolV1.CatalogListResponseSchema, bytes)).toStrictEqual(reply);
    const small = create(toolV1.CatalogListResponseSchema, { tools: reply.tools.map((t) => ({ ...t, description: t.name, inputSchemaJson: t.name })) });
    expect(decodeDirect(toolV1.CatalogListResponseSchema, toBinary(toolV1.CatalogListResponseSchema, small))).toStrictEqual(small);
  });

  it('keeps what fromBinary keeps: unknown fields, merged repeats of a message field, last value wins', () => {
    // Error{code:"A"} plus an unknown field 111 (varint 7): fromBinary keeps it in $unknown.
    const withUnknown = new Uint8Array([0x0a, 0x01, 0x41, 0xf8, 0x06, 0x07]);
    expect(decodeDirect(commonV1.ErrorSchema, withUnknown)).toBeUndefined();
    expect(decodeProtobuf(commonV1.ErrorSchema, withUnknown)).toStrictEqual(fromBinary(commonV1.ErrorSchema, withUnknown));
    // The same string field twice: the last one wins.
    const twice = new Uint8Array([0x0a, 0x01, 0x41, 0x0a, 0x01, 0x42]);
    expect(decodeDirect(toolV1.ToolSpecSchema, twice)).toStrictEqual(fromBinary(toolV1.ToolSpecSchema, twice));
    expect(decodeDirect(toolV1.ToolSpecSchema, twice)?.name).toBe('B');
    // A list of messages, then a field of the same message twice inside one of them.
    const list = new Uint8Array([0x0a, 0x06, 0x0a, 0x01, 0x41, 0x0a, 0x01, 0x43, 0x0a, 0x00]);
    expect(decodeDirect(toolV1.CatalogListResponseSchema, list)).toStrictEqual(fromBinary(toolV1.CatalogListResponseSchema, list));
  });

  it('answers hostile bytes exactly as fromBinary does (same message or same error)', () => {
    const schemas = [commonV1.ErrorSchema, toolV1.CatalogListResponseSchema, Rpc.toolCallExecute.request, Rpc.backupCatalogList.request];
    const good = toBinary(
      toolV1.CatalogListResponseSchema,
      create(toolV1.CatalogListResponseSchema, { tools: [{ name: 'a', description: 'b', inputSchemaJson: '{}' }] }),
    );
    const inputs: Uint8Array[] = [
      good.subarray(0, good.length - 1), // truncated
      new Uint8Array([0x0a, 0x05, 0x41]), // length beyond the end
      new Uint8Array([0x0a, 0x02, 0xc3, 0x28]), // invalid UTF-8 in a proto3 string
      new Uint8Array([0x0b]), // a group start tag
      new Uint8Array([0x0d, 1, 2, 3, 4]), // fixed32 wire type on a length-delimited field
      new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // an 11-byte varint
      new Uint8Array([0x80]), // a tag cut short
      new Uint8Array([0x00, 0x01]), // field number 0
    ];
    // And random bytes: any input either decodes to fromBinary's message or fails with its error.
    let seed = 42;
    for (let i = 0; i < 300; i++) {
      const bytes = new Uint8Array(1 + (i % 40));
      for (let j = 0; j < bytes.length; j++) bytes[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      inputs.push(bytes);
    }
    for (const schema of schemas) {
      for (const bytes of inputs) expect(viaDecoder(schema, bytes)).toStrictEqual(viaFromBinary(schema, bytes));
    }
  });
});

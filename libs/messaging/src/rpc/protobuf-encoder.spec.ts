import { create, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import { commonV1, Rpc, toolV1 } from '@overskill/contracts';
import { busMessages, fill, fillInit } from './__tests__/bus-messages';
import { encodeDirect, encodeInit, encodeProtobuf } from './protobuf-encoder';

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

  it('writes strings of every length around the in-JS bound as toBinary does, whatever units they hold', () => {
    const odd = ['ü', '✓', '😀', '\ud800', '\udc00x', '\u007f', '\u0080'];
    for (const length of [0, 1, 2, 63, 64, 65, 66, 200]) {
      const ascii = 'a'.repeat(length);
      const names = [ascii, ...odd.flatMap((u) => [`${u}${ascii}`, `${ascii}${u}`, `${ascii.slice(0, length >> 1)}${u}${ascii.slice(length >> 1)}`])];
      for (const name of names) {
        const init = { tools: [{ name, description: name.slice(1), inputSchemaJson: '{}' }] };
        const expected = toBinary(toolV1.CatalogListResponseSchema, create(toolV1.CatalogListResponseSchema, init));
        expect(Buffer.from(encodeInit(toolV1.CatalogListResponseSchema, init)).equals(Buffer.from(expected))).toBe(true);
      }
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

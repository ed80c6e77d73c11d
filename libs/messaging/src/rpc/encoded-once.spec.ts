import { create, toBinary } from '@bufbuild/protobuf';
import { Rpc, toolV1 } from '@overskill/contracts';
import { encodedOnce } from './encoded-once';
import { encodeMessage } from './rpc-codec';

describe('encodedOnce', () => {
  const init = () => ({ tools: [{ name: 'read_file', description: 'Reads a file', inputSchemaJson: '{"type":"object"}' }] });

  it('answers with the bytes written once, the same as toBinary, for the same value and type', () => {
    const reply = encodedOnce(toolV1.CatalogListResponseSchema, init());
    const expected = toBinary(toolV1.CatalogListResponseSchema, create(toolV1.CatalogListResponseSchema, init()));
    const first = encodeMessage(Rpc.toolCatalogList.response, reply);
    expect(Buffer.from(first).equals(Buffer.from(expected))).toBe(true);
    expect(encodeMessage(Rpc.toolCatalogList.response, reply)).toBe(first);
    // An equal value that was not registered is written anew.
    expect(encodeMessage(Rpc.toolCatalogList.response, init())).not.toBe(first);
  });

  it('freezes the value all the way down, so the kept bytes cannot go stale', () => {
    const reply = encodedOnce(toolV1.CatalogListResponseSchema, init());
    expect(() => reply.tools!.push({ name: 'x' } as never)).toThrow(TypeError);
    expect(() => {
      (reply.tools![0] as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  it('keeps the bytes for the message type they were written as only', () => {
    const reply = encodedOnce(toolV1.CatalogListResponseSchema, { tools: [] });
    const kept = encodeMessage(toolV1.CatalogListResponseSchema, reply);
    expect(encodeMessage(toolV1.ToolSpecSchema, reply as never)).not.toBe(kept);
  });

  it('refuses a value holding bytes, which cannot be frozen', () => {
    expect(() => encodedOnce(toolV1.ToolSpecSchema, { name: 'n', extra: new Uint8Array(1) } as never)).toThrow(/bytes fields/);
  });
});

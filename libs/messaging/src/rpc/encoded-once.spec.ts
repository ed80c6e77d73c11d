import { create, toBinary } from '@bufbuild/protobuf';
import { aiV1, Rpc, toolV1 } from '@overskill/contracts';
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

describe('encodedOnce, nested', () => {
  const turn = (text: string) => ({ role: aiV1.Role.USER, content: [{ block: { case: 'text' as const, value: { text } } }] });
  const request = (messages: unknown[], tools: unknown[]) => ({ teamId: 't', system: 'sys', messages, tools, maxTokens: 10 }) as never;

  it('copies the bytes kept for a value nested in another message: the same bytes as toBinary of the whole', () => {
    const kept = [encodedOnce(aiV1.ChatMessageSchema, create(aiV1.ChatMessageSchema, turn('first é'))), turn('second')];
    const tools = [encodedOnce(aiV1.ToolDefinitionSchema, { name: 'read_file', description: 'Reads', inputSchemaJson: '{"type":"object"}' })];
    const bytes = encodeMessage(aiV1.CompletionRequestSchema, request(kept, tools));
    const expected = toBinary(aiV1.CompletionRequestSchema, create(aiV1.CompletionRequestSchema, request([turn('first é'), turn('second')], [tools[0]])));
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
  });

  it('writes the kept bytes rather than walking the value again', () => {
    const value = encodedOnce(aiV1.ChatMessageSchema, turn('kept'));
    const tool = encodedOnce(aiV1.ToolDefinitionSchema, { name: 'n', description: '', inputSchemaJson: '' });
    const whole = request([value], [tool]);
    const spy = jest.spyOn(Object, 'isFrozen');
    try {
      const bytes = encodeMessage(aiV1.CompletionRequestSchema, whole);
      const expected = toBinary(aiV1.CompletionRequestSchema, create(aiV1.CompletionRequestSchema, request([turn('kept')], [{ name: 'n' }])));
      expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
      // Asked of the request and of the two nested values (sized, then written), never of their own fields: neither was walked.
      expect(spy.mock.calls.map((c) => c[0])).toEqual([whole, value, tool, value, tool]);
    } finally {
      spy.mockRestore();
    }
  });

  it('walks a value that was not frozen, so a later change is sent as it is', () => {
    const value = turn('before');
    const first = encodeMessage(aiV1.CompletionRequestSchema, request([value], []));
    value.content[0]!.block.value.text = 'after, longer';
    const second = encodeMessage(aiV1.CompletionRequestSchema, request([value], []));
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(false);
    expect(Buffer.from(second).equals(Buffer.from(toBinary(aiV1.CompletionRequestSchema, create(aiV1.CompletionRequestSchema, request([value], [])))))).toBe(
      true,
    );
  });
});

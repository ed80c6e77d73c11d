import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { aiV1, ErrorCode } from '@overskill/contracts';
import { cacheKey, estimateInputTokens, isCacheable, toChatParams } from './completion-mapping';

const text = (t: string) => ({ block: { case: 'text' as const, value: { text: t } } });

function request(init: Omit<Extract<MessageInitShape<typeof aiV1.CompletionRequestSchema>, { $typeName?: undefined }>, '$typeName'> = {}) {
  return create(aiV1.CompletionRequestSchema, {
    teamId: 't',
    system: 'You are helpful',
    messages: [
      { role: aiV1.Role.USER, content: [text('one')] },
      { role: aiV1.Role.ASSISTANT, content: [text('two')] },
      { role: aiV1.Role.USER, content: [text('three')] },
    ],
    tools: [
      { name: 'a', description: 'A', inputSchemaJson: '{"type":"object"}' },
      { name: 'b', description: 'B', inputSchemaJson: '{"type":"object"}' },
    ],
    ...init,
  });
}

describe('completion mapping', () => {
  it('puts cache_control breakpoints on the system prompt, the last tool and the end of the stable history', () => {
    const params = toChatParams(request());
    expect(params.system).toEqual([{ type: 'text', text: 'You are helpful', cache_control: { type: 'ephemeral' } }]);
    expect(params.tools?.map((t) => 'cache_control' in t)).toEqual([false, true]);
    const blocks = params.messages.map((m) => (m.content as Array<{ cache_control?: unknown }>)[0].cache_control);
    expect(blocks).toEqual([undefined, { type: 'ephemeral' }, undefined]);
    expect(params.max_tokens).toBe(4096);
  });

  it('refuses hostile or broken requests with AI_REQUEST_INVALID', () => {
    const bad = [
      request({ messages: [] }),
      request({ maxTokens: 10_000_000 }),
      request({ temperature: -1 }),
      request({ tools: [{ name: 'bad name!', inputSchemaJson: '{"type":"object"}' }] }),
      request({ tools: [{ name: 'x', inputSchemaJson: '[1]' }] }),
      request({ messages: [{ role: aiV1.Role.USER, content: [{ block: { case: 'toolUse', value: { id: '1', name: 'x', inputJson: '{}' } } }] }] }),
      request({ messages: [{ role: aiV1.Role.UNSPECIFIED, content: [text('x')] }] }),
    ];
    for (const req of bad) expect(() => toChatParams(req)).toThrow(expect.objectContaining({ code: ErrorCode.AI_REQUEST_INVALID }));
  });

  it('caches only deterministic requests, per team and model', () => {
    expect(isCacheable(request())).toBe(false);
    expect(isCacheable(request({ temperature: 0.7 }))).toBe(false);
    expect(isCacheable(request({ temperature: 0 }))).toBe(true);
    expect(isCacheable(request({ temperature: 0.7, allowCache: true }))).toBe(true);
    const params = toChatParams(request({ temperature: 0 }));
    expect(cacheKey('t', 'anthropic', 'm', params)).toBe(cacheKey('t', 'anthropic', 'm', toChatParams(request({ temperature: 0 }))));
    expect(cacheKey('t', 'anthropic', 'm', params)).not.toBe(cacheKey('u', 'anthropic', 'm', params));
  });

  it('parses a tool schema once and shares it read-only between requests', () => {
    const first = toChatParams(request()).tools?.[0] as { input_schema: Record<string, unknown> };
    const second = toChatParams(request()).tools?.[0] as { input_schema: Record<string, unknown> };
    expect(second.input_schema).toBe(first.input_schema);
    expect(Object.isFrozen(first.input_schema)).toBe(true);
    expect(() => toChatParams(request({ tools: [{ name: 'a', description: 'A', inputSchemaJson: '[1]' }] }))).toThrow(
      expect.objectContaining({ code: ErrorCode.AI_REQUEST_INVALID }),
    );
  });

  it('maps a catalog once: every turn with the same tools gets the same frozen list, and a different list its own', () => {
    const first = toChatParams(request()).tools!;
    expect(toChatParams(request()).tools).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first[1])).toBe(true);
    // The same strings split differently are another list.
    const shifted = toChatParams(request({ tools: [{ name: 'a', description: 'A1:b', inputSchemaJson: '{"type":"object"}' }] })).tools!;
    expect(shifted).not.toBe(first);
    expect(shifted.map((t) => (t as { name: string }).name)).toEqual(['a']);
    expect(toChatParams(request({ tools: [] })).tools).toBeUndefined();
  });

  it('estimates input tokens from every string the request carries, at about four bytes a token', () => {
    const small = estimateInputTokens(request());
    const longer = estimateInputTokens(request({ system: 'x'.repeat(4000) }));
    expect(longer - small).toBeGreaterThanOrEqual(990);
    expect(longer - small).toBeLessThanOrEqual(1000);
    const withTool = estimateInputTokens(
      request({ tools: [{ name: 'a', description: 'A', inputSchemaJson: JSON.stringify({ type: 'object', description: 'y'.repeat(800) }) }] }),
    );
    expect(withTool).toBeGreaterThan(small + 150);
  });
});

import type Anthropic from '@anthropic-ai/sdk';
import { anthropicRequestBody } from './anthropic-request-body';

const tools = (): Anthropic.Tool[] => [
  { name: 'read_file', description: 'Read "a" file\n', input_schema: { type: 'object', properties: { path: { type: 'string' } } } },
  { name: 'write_file', description: 'Write', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } },
];

describe('anthropicRequestBody', () => {
  const request = (list?: Anthropic.Tool[]) => ({
    max_tokens: 10,
    messages: [{ role: 'user' as const, content: 'hi ✓' }],
    model: 'm',
    stream: false,
    ...(list ? { tools: list } : {}),
  });

  it('writes what JSON.stringify writes, the tools last', () => {
    const withTools = request(tools());
    expect(JSON.parse(anthropicRequestBody(withTools))).toEqual(JSON.parse(JSON.stringify(withTools)));
    expect(anthropicRequestBody(request())).toBe(JSON.stringify(request()));
    expect(anthropicRequestBody({ tools: tools() })).toBe(JSON.stringify({ tools: tools() }));
  });

  it("writes a frozen list's JSON once, and an unfrozen list's every time", () => {
    const frozen = Object.freeze(tools());
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      anthropicRequestBody(request(frozen as Anthropic.Tool[]));
      anthropicRequestBody(request(frozen as Anthropic.Tool[]));
      expect(stringify.mock.calls.filter(([value]) => value === frozen)).toHaveLength(1);
    } finally {
      stringify.mockRestore();
    }
    const open = tools();
    anthropicRequestBody(request(open));
    open[0]!.description = 'changed';
    expect(JSON.parse(anthropicRequestBody(request(open))).tools[0].description).toBe('changed');
  });
});

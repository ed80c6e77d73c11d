import { aiV1 } from '@overskill/contracts';
import { encodeMessage } from '@overskill/messaging';
import { KeptToolCatalogs } from './kept-tool-catalogs';

const catalog = (description = 'Read a file') => [
  { name: 'read_file', description, inputSchemaJson: '{"type":"object","properties":{"path":{"type":"string"}}}' },
  { name: 'write_file', description: 'Write a file', inputSchemaJson: '{"type":"object"}' },
];

describe('KeptToolCatalogs', () => {
  it('makes a catalog once: the same strings get the same frozen, encoded definitions and its JSON size', () => {
    const kept = new KeptToolCatalogs();
    const first = kept.keep(catalog());
    expect(kept.keep(catalog())).toBe(first);
    expect(first.jsonChars).toBe(JSON.stringify(catalog()).length);
    expect(first.definitions.map((d) => d.name)).toEqual(['read_file', 'write_file']);
    expect(Object.isFrozen(first.definitions) && first.definitions.every((d) => Object.isFrozen(d))).toBe(true);
    // Encoded within a request, they are the bytes a fresh encode writes.
    const request = { teamId: 't', tools: [...first.definitions] };
    const fresh = { teamId: 't', tools: catalog().map((t) => ({ ...t })) };
    expect(Buffer.from(encodeMessage(aiV1.CompletionRequestSchema, request))).toEqual(Buffer.from(encodeMessage(aiV1.CompletionRequestSchema, fresh)));
  });

  it('tells catalogs apart by every string, however their text splits, and keeps only a few', () => {
    const kept = new KeptToolCatalogs();
    const first = kept.keep(catalog());
    expect(kept.keep(catalog('Read a file!'))).not.toBe(first);
    const split = kept.keep([{ name: 'read_file', description: 'Read a file1:x', inputSchemaJson: '{}' }]);
    expect(split.definitions).toHaveLength(1);
    for (let i = 0; i < 4; i++) kept.keep(catalog(`other ${i}`));
    expect(kept.keep(catalog())).not.toBe(first);
  });
});

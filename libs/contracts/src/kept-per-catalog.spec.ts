import { KeptPerCatalog, type ToolDefinitionText } from './kept-per-catalog';

const catalog = (description = 'Read a file'): ToolDefinitionText[] => [
  { name: 'read_file', description, inputSchemaJson: '{"type":"object","properties":{"path":{"type":"string"}}}' },
  { name: 'write_file', description: 'Write a file', inputSchemaJson: '{"type":"object"}' },
];
// The same strings as new string objects, cut from a larger text as a decoder cuts them.
const decoded = (tools: ToolDefinitionText[]): ToolDefinitionText[] => {
  const text = `#${tools.map((t) => t.name + t.description + t.inputSchemaJson).join('')}#`;
  let at = 1;
  const cut = (s: string) => text.slice(at, (at += s.length));
  return tools.map((t) => ({ name: cut(t.name), description: cut(t.description), inputSchemaJson: cut(t.inputSchemaJson) }));
};

describe('KeptPerCatalog', () => {
  it('makes a catalog once and finds it again from new strings with the same text', () => {
    const kept = new KeptPerCatalog<object>(4);
    const make = jest.fn(() => ({}));
    const first = kept.get(catalog(), make);
    expect(kept.get(decoded(catalog()), make)).toBe(first);
    expect(make).toHaveBeenCalledTimes(1);
  });

  it('tells catalogs apart by every string and its place, even at the same length', () => {
    const kept = new KeptPerCatalog<string>(8);
    kept.get(catalog(), () => 'first');
    expect(kept.get(catalog('Read a fil!'), () => 'one character')).toBe('one character');
    expect(kept.get([...catalog()].reverse(), () => 'reordered')).toBe('reordered');
    expect(kept.get(catalog().slice(0, 1), () => 'shorter')).toBe('shorter');
    // The same characters split differently between the fields.
    const [read, write] = catalog() as [ToolDefinitionText, ToolDefinitionText];
    expect(kept.get([{ ...read, name: 'read_fileR', description: 'ead a file' }, write], () => 'split')).toBe('split');
    expect(kept.get(catalog(), () => 'again')).toBe('first');
  });

  it('keeps at most its maximum, the oldest going first, and nothing when making fails', () => {
    const kept = new KeptPerCatalog<string>(2);
    kept.get(catalog('a'), () => 'a');
    kept.get(catalog('b'), () => 'b');
    kept.get(catalog('c'), () => 'c');
    expect(kept.get(catalog('a'), () => 'a again')).toBe('a again');
    expect(kept.get(catalog('c'), () => 'c again')).toBe('c');
    expect(() =>
      kept.get(catalog('bad'), () => {
        throw new Error('invalid schema');
      }),
    ).toThrow('invalid schema');
    expect(kept.get(catalog('bad'), () => 'made')).toBe('made');
  });

  it('finds a catalog again whatever its text holds (lone surrogates, NUL, non-ASCII)', () => {
    const kept = new KeptPerCatalog<string>(4);
    const odd = catalog('half \ud800 pair, \u0000 and ünïcode ✓');
    kept.get(odd, () => 'odd');
    expect(kept.get(decoded(odd), () => 'missed')).toBe('odd');
  });
});

import { ErrorCode } from '@overskill/contracts';
import { checkPackageName, parsePackageJson, parseVersionSpec, serializePackageJson } from './package-spec';

describe('npm package names and version specs', () => {
  it.each(['react', '@tanstack/react-query', 'lodash.debounce', 'a-b_c', 'x'.repeat(214)])('accepts the name %s', (name) => {
    expect(() => checkPackageName(name)).not.toThrow();
  });

  it('accepts legacy capitalised names with a warning', () => {
    expect(checkPackageName('JSONStream').warning).toMatch(/legacy/);
  });

  it.each(['', ' react', '.hidden', '_private', 'x'.repeat(215), 'a b', 'react!', "it's", 'a/b', '@scope', '@scope/', '@sc ope/x', 'node_modules', 'é'])(
    'refuses the name %j',
    (name) => {
      expect(() => checkPackageName(name)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PACKAGE_INVALID }));
    },
  );

  it.each([
    ['^1.2.3', { kind: 'range', range: '^1.2.3' }],
    ['>=2 <4', { kind: 'range', range: '>=2 <4' }],
    ['1.x', { kind: 'range', range: '1.x' }],
    ['*', { kind: 'range', range: '*' }],
    ['latest', { kind: 'tag', tag: 'latest' }],
    ['next', { kind: 'tag', tag: 'next' }],
  ])('reads the spec %s', (spec, expected) => {
    expect(parseVersionSpec(spec)).toEqual(expected);
  });

  it.each([
    'file:../../etc',
    'git+ssh://git@github.com/x/y.git',
    'github:x/y',
    'https://evil.example/x.tgz',
    'npm:other@1',
    'link:..',
    'user/repo',
    '^^1',
    '1.2.3 || <<2',
  ])('refuses the spec %s', (spec) => {
    expect(() => parseVersionSpec(spec)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PACKAGE_INVALID }));
  });

  it('keeps package.json formatting (indent, line endings, final newline)', () => {
    const text = '{\r\n    "name": "x",\r\n    "dependencies": {}\r\n}\r\n';
    const doc = parsePackageJson(text);
    expect(doc.indent).toBe('    ');
    expect(serializePackageJson(doc)).toBe(text);
    expect(() => parsePackageJson('{ nope')).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PACKAGE_JSON_INVALID }));
    expect(() => parsePackageJson('{"dependencies": []}')).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PACKAGE_JSON_INVALID }));
  });
});

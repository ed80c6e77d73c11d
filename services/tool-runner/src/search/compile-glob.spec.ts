import { compileGlob, compilePathFilter, fileIsSearched, folderIsSearched } from './compile-glob';

describe('compileGlob (.gitignore semantics, as ripgrep --glob)', () => {
  it.each([
    ['*.ts', 'a.ts', true],
    ['*.ts', 'src/deep/a.ts', true],
    ['*.ts', 'a.tsx', false],
    ['src/*.ts', 'src/a.ts', true],
    ['src/*.ts', 'src/deep/a.ts', false],
    ['src/*.ts', 'lib/src/a.ts', false],
    ['/a.ts', 'a.ts', true],
    ['/a.ts', 'src/a.ts', false],
    ['src/**/*.ts', 'src/a.ts', true],
    ['src/**/*.ts', 'src/x/y/a.ts', true],
    ['**/test/*.js', 'a/b/test/c.js', true],
    ['src/**', 'src/x/y.md', true],
    ['*.{ts,tsx}', 'a/b.tsx', true],
    ['file?.txt', 'file1.txt', true],
    ['file?.txt', 'file/.txt', false],
    ['[ab].txt', 'b.txt', true],
    ['[!ab].txt', 'b.txt', false],
    ['vendor', 'x/vendor', true],
  ])('%s matches %s: %s', (glob, path, expected) => {
    expect(compileGlob(glob).regex.test(path)).toBe(expected);
  });

  it('applies includes to files only and lets excludes prune folders and win over includes', () => {
    const filter = compilePathFilter(['*.ts'], ['*.spec.ts', 'vendor']);
    expect(fileIsSearched(filter, 'src/a.ts')).toBe(true);
    expect(fileIsSearched(filter, 'src/a.spec.ts')).toBe(false);
    expect(fileIsSearched(filter, 'src/a.js')).toBe(false);
    expect(folderIsSearched(filter, 'src')).toBe(true);
    expect(folderIsSearched(filter, 'lib/vendor')).toBe(false);
    expect(folderIsSearched(filter, 'node_modules')).toBe(false);
    expect(folderIsSearched(filter, '.git')).toBe(false);
  });

  it('refuses an unclosed alternative', () => {
    expect(() => compileGlob('*.{ts')).toThrow(/unclosed/);
  });
});

import { ErrorCode } from '@overskill/contracts';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHarness, type Harness } from '../__tests__/tool-harness';

function fixture(root: string, outside: string): void {
  const put = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  put('src/app.ts', 'import { api } from "./api";\nexport function main() {\n  return api.fetchUser(1);\n}\n');
  put('src/api.ts', 'export const api = {\n  fetchUser(id: number) {\n    return fetch(`/users/${id}`);\n  },\n};\n');
  put('src/app.spec.ts', 'it("fetchUser works", () => {});\n');
  put('src/deep/nested/util.tsx', 'export const FetchUserButton = () => <button>fetchUser</button>;\r\nexport const other = 1;\r\n');
  put('README.md', '# Demo\n\nCall fetchUser to load a user.\n');
  put('.github/workflows/ci.yml', 'run: npm test # fetchUser\n');
  put('vendor/lib.js', 'function fetchUser() {}\n');
  put('node_modules/pkg/index.js', 'fetchUser();\n');
  put('logo.bin', Buffer.concat([Buffer.from('fetchUser'), Buffer.from([0, 1, 2])]));
  put('café/ünïcode.txt', 'fetchUser ünïcode line\n');
  put('many.txt', Array.from({ length: 150 }, (_, i) => `line ${i} fetchUser`).join('\n'));
  put('empty.txt', '');
  writeFileSync(join(outside, 'secret.txt'), 'fetchUser secret outside\n');
  symlinkSync(outside, join(root, 'escape'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link.txt'));
  linkSync(join(outside, 'secret.txt'), join(root, 'hard-link.txt'));
  spawnSync('mkfifo', [join(root, 'pipe.txt')]);
}

const QUERIES: Array<Record<string, unknown>> = [
  { pattern: 'fetchUser' },
  { pattern: 'fetchuser', case_sensitive: false },
  { pattern: 'fetch\\w+\\(', include: ['*.ts'] },
  { pattern: 'fetchUser', include: ['src/**/*.ts', '*.tsx'], exclude: ['*.spec.ts'] },
  { pattern: 'fetchUser', exclude: ['vendor', 'many.txt'], context_lines: 1 },
  { pattern: 'fetchUser', path: 'src', context_lines: 2 },
  { pattern: 'other = 1;$' },
  { pattern: '${id}', fixed_strings: true },
  { pattern: 'ünïcode' },
  { pattern: '(?<=api\\.)fetch' },
  { pattern: 'no such text anywhere' },
];

describe('search_files', () => {
  let h: Harness;
  afterEach(() => h?.close());
  const setup = (engine: string, env: Record<string, string> = {}) => {
    h = createHarness({ env: { TOOL_SEARCH_ENGINE: engine, ...env } });
    const outside = join(h.base, 'outside');
    mkdirSync(outside);
    fixture(h.root, outside);
    return h;
  };

  // npm test installs Debian's ripgrep; without it TOOL_SEARCH_ENGINE=ripgrep refuses to start.
  it('gives identical results with ripgrep and with the JavaScript engine', async () => {
    const answers: Record<string, string[]> = {};
    for (const engine of ['ripgrep', 'javascript']) {
      setup(engine);
      answers[engine] = [];
      for (const query of QUERIES) answers[engine]!.push((await h.run('search_files', query)).output);
      h.close();
    }
    expect(answers.javascript).toEqual(answers.ripgrep);
    // And the answers are the right ones, not just equal.
    const [all, , , filtered, , , crlf, fixed, unicode, lookbehind, none] = answers.ripgrep!;
    expect(all).toMatch(
      /^100 matching lines in 4 files:\n\.github\/workflows\/ci\.yml:1: run: npm test # fetchUser\nREADME\.md:3: Call fetchUser to load a user\.\ncafé\/ünïcode\.txt:1: fetchUser ünïcode line\nmany\.txt:1: line 0 fetchUser\n/,
    );
    expect(all).toContain('many.txt:97: line 96 fetchUser\n[truncated: showing the first 100 matching lines; 5 more files also match.');
    expect(all).not.toMatch(/node_modules|secret|logo\.bin|pipe\.txt|escape/);
    expect(filtered).toBe(
      '3 matching lines in 3 files:\nsrc/api.ts:2:   fetchUser(id: number) {\nsrc/app.ts:3:   return api.fetchUser(1);\nsrc/deep/nested/util.tsx:1: export const FetchUserButton = () => <button>fetchUser</button>;',
    );
    expect(crlf).toBe('1 matching line in 1 file:\nsrc/deep/nested/util.tsx:2: export const other = 1;');
    expect(fixed).toContain('src/api.ts:3:     return fetch(`/users/${id}`);');
    expect(unicode).toContain('café/ünïcode.txt:1: fetchUser ünïcode line');
    expect(lookbehind).toBe('1 matching line in 1 file:\nsrc/app.ts:3:   return api.fetchUser(1);');
    expect(none).toBe('No matches for "no such text anywhere".');
  });

  it('shows context lines with grep separators', async () => {
    setup('javascript');
    const out = (await h.run('search_files', { pattern: 'fetchUser', path: 'src', include: ['api.ts', 'app.ts'], context_lines: 1 })).output;
    expect(out).toBe(
      [
        '2 matching lines in 2 files:',
        'src/api.ts-1- export const api = {',
        'src/api.ts:2:   fetchUser(id: number) {',
        'src/api.ts-3-     return fetch(`/users/${id}`);',
        '--',
        'src/app.ts-2- export function main() {',
        'src/app.ts:3:   return api.fetchUser(1);',
        'src/app.ts-4- }',
      ].join('\n'),
    );
  });

  it('caps at TOOL_MAX_SEARCH_RESULTS', async () => {
    setup('javascript', { TOOL_MAX_SEARCH_RESULTS: '5' });
    const out = (await h.run('search_files', { pattern: 'line \\d+', include: ['many.txt'] })).output;
    expect(out.split('\n').filter((l) => l.startsWith('many.txt:'))).toHaveLength(5);
    expect(out).toMatch(/^5 matching lines in 1 file:/);
  });

  it('refuses bad patterns, globs and folders with a message the model can act on', async () => {
    setup('javascript');
    expect(await h.run('search_files', { pattern: '(' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_SEARCH_PATTERN_INVALID });
    expect(await h.run('search_files', { pattern: 'x', include: ['*.{ts'] })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_INPUT_INVALID });
    expect(await h.run('search_files', { pattern: 'x', path: '../' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(await h.run('search_files', { pattern: 'x', path: 'escape' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE });
    expect(await h.run('search_files', { pattern: 'x', path: '.git' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_PATH_PROTECTED });
  });

  it('stops a pattern that backtracks catastrophically', async () => {
    setup('javascript', { TOOL_SEARCH_TIMEOUT_MS: '200' });
    writeFileSync(join(h.root, 'aaa.txt'), `${'a'.repeat(40)}b\n`);
    expect(await h.run('search_files', { pattern: '(a+)+$', include: ['aaa.txt'] })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_SEARCH_PATTERN_INVALID,
    });
  });
});

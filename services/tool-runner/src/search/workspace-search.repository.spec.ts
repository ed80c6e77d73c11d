import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePathFilter } from './compile-glob';
import { compileLineMatcher } from './line-matcher';
import { WorkspaceSearchRepository } from './workspace-search.repository';

describe('WorkspaceSearchRepository engines', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'search-spec-'));
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src/a.ts'), 'aaab\nplain\n');
    writeFileSync(join(root, 'b.md'), 'plain\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const query = (pattern: string) => ({
    root,
    folder: '.',
    pattern,
    fixedStrings: false,
    caseSensitive: true,
    include: [],
    exclude: [],
    filter: compilePathFilter([], []),
    matcher: compileLineMatcher(pattern, { fixedStrings: false, caseSensitive: true, timeBudgetMs: 2000 }),
    maxFileBytes: 1024,
  });

  it('uses ripgrep when asked, and falls back to JavaScript for what ripgrep cannot parse', async () => {
    const repo = new WorkspaceSearchRepository({ TOOL_SEARCH_ENGINE: 'ripgrep' });
    expect(await repo.filesWithMatches(query('plain'))).toEqual({ files: ['b.md', 'src/a.ts'], engine: 'ripgrep' });
    // A variable-length lookbehind: JavaScript has it, ripgrep's engines do not.
    expect(await repo.filesWithMatches(query('(?<=a+)b'))).toEqual({ files: ['src/a.ts'], engine: 'javascript' });
  });

  it('uses only JavaScript when configured so', async () => {
    const repo = new WorkspaceSearchRepository({ TOOL_SEARCH_ENGINE: 'javascript' });
    expect(await repo.filesWithMatches(query('plain'))).toEqual({ files: ['b.md', 'src/a.ts'], engine: 'javascript' });
  });
});

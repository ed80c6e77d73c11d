import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gitIgnores, type IgnoreRules } from './git-ignore';

// Each case is checked against git itself: the files are created in a fresh repository and
// `git ls-files --others --exclude-standard` says which of them it would stage.
interface Case {
  name: string;
  exclude?: string;
  gitignores: Record<string, string>;
  files: string[];
}

const CASES: Case[] = [
  { name: 'no rules at all', gitignores: {}, files: ['a.txt', 'src/deep/b.ts', '.env'] },
  {
    name: "a vite app's root rules",
    gitignores: { '': 'node_modules\ndist\n*.local\n.vite/\n' },
    files: ['src/App.tsx', 'node_modules/react/index.js', 'dist/index.html', 'env.local', 'src/dist', 'x/.vite/cache.json', '.vite'],
  },
  {
    name: 'anchored, folder-only and double-star patterns',
    gitignores: { '': '/build\nlogs/\n**/tmp/**\n*.log\n' },
    files: ['build/out.js', 'src/build/x.js', 'logs/a.txt', 'src/logs', 'deep/logs/b.txt', 'a/tmp/b/c.txt', 'tmp.txt', 'app.log', 'src/app.log.txt'],
  },
  {
    name: 're-included by negation, except under an excluded folder',
    gitignores: { '': '*.txt\n!keep.txt\nsecret/\n!secret/open.txt\ncache/*\n!cache/keep/\n' },
    files: ['a.txt', 'keep.txt', 'sub/keep.txt', 'secret/open.txt', 'cache/drop.bin', 'cache/keep/kept.bin', 'note.md'],
  },
  {
    name: 'a deeper .gitignore overrides a shallower one, and speaks only below its folder',
    gitignores: { '': '*.gen\n', pkg: '!*.gen\nlocal/\n', 'pkg/inner': '*.gen\n' },
    files: ['a.gen', 'pkg/b.gen', 'pkg/inner/c.gen', 'pkg/local/d.txt', 'local/e.txt', 'other/f.gen'],
  },
  {
    name: 'info/exclude yields to every .gitignore',
    exclude: '*.bak\nprivate/\n',
    gitignores: { src: '!*.bak\n' },
    files: ['a.bak', 'src/b.bak', 'private/c.txt', 'src/private/d.txt'],
  },
  {
    name: 'case, spaces, escapes and comments',
    gitignores: { '': '# a comment\nREADME.MD\nwith\\ space.txt\n\\#hash.txt\ntrailing.txt   \n' },
    files: ['README.md', 'README.MD', 'with space.txt', '#hash.txt', '# a comment', 'trailing.txt'],
  },
];

function listedByGit(root: string): Set<string> {
  const out = execFileSync('git', ['-c', 'core.quotePath=false', 'ls-files', '-z', '--others', '--exclude-standard'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: root },
  });
  return new Set(out.toString('utf8').split('\0').filter(Boolean));
}

describe('gitIgnores: what git would leave out of the file tree', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'git-ignore-spec-'));
    execFileSync('git', ['init', '-q'], { cwd: root });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each(CASES)('agrees with git: $name', (c) => {
    const rules: IgnoreRules[] = [];
    if (c.exclude !== undefined) {
      writeFileSync(join(root, '.git', 'info', 'exclude'), c.exclude);
      rules.push({ folder: '', patterns: c.exclude });
    }
    for (const [folder, patterns] of Object.entries(c.gitignores).sort(([a], [b]) => a.length - b.length)) {
      mkdirSync(join(root, folder), { recursive: true });
      writeFileSync(join(root, folder, '.gitignore'), patterns);
      rules.push({ folder, patterns });
    }
    for (const file of c.files) {
      mkdirSync(join(root, dirname(file)), { recursive: true });
      writeFileSync(join(root, file), 'x');
    }
    const listed = listedByGit(root);
    const ours = Object.fromEntries(c.files.map((file) => [file, !gitIgnores(file, rules)]));
    const git = Object.fromEntries(c.files.map((file) => [file, listed.has(file)]));
    expect(ours).toEqual(git);
    // The case must tell the two answers apart, or it checks nothing.
    if (c.name !== 'no rules at all') expect(new Set(Object.values(git)).size).toBe(2);
  });
});

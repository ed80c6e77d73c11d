import { gitV1 } from '@overskill/contracts';
import { parseRawNumstat, splitPatch } from './parse-git-diff';
import { parseGitLog } from './parse-git-log';
import { parseGitStatus } from './parse-git-status';

// Real output of git 2.39, NUL-separated as -z prints it.
describe('parsing git output', () => {
  it('reads porcelain v2 status: branch, upstream, modified, staged rename, untracked, conflict', () => {
    const out = [
      '# branch.oid 768cc5e3bd27768aeca062c06bb6a0b67a5e7ab4',
      '# branch.head main',
      '# branch.upstream origin/main',
      '# branch.ab +2 -1',
      '1 .M N... 100644 100644 100644 587be6b4 587be6b4 my file.txt',
      '2 R. N... 100644 100644 100644 422c2b7a 422c2b7a R100 new.txt',
      'old.txt',
      'u UU N... 100644 100644 100644 100644 aaaa bbbb cccc both.txt',
      '? untracked dir/x.txt',
      '',
    ].join('\0');
    expect(parseGitStatus(out)).toEqual({
      branch: 'main',
      headSha: '768cc5e3bd27768aeca062c06bb6a0b67a5e7ab4',
      detached: false,
      upstream: 'origin/main',
      ahead: 2,
      behind: 1,
      files: [
        { path: 'my file.txt', originalPath: '', change: gitV1.FileChange.MODIFIED, staged: false, unstaged: true },
        { path: 'new.txt', originalPath: 'old.txt', change: gitV1.FileChange.RENAMED, staged: true, unstaged: false },
        { path: 'both.txt', originalPath: '', change: gitV1.FileChange.CONFLICTED, staged: true, unstaged: true },
        { path: 'untracked dir/x.txt', originalPath: '', change: gitV1.FileChange.UNTRACKED, staged: false, unstaged: true },
      ],
    });
    expect(parseGitStatus('# branch.oid (initial)\0# branch.head (detached)\0')).toMatchObject({ headSha: '', branch: '', detached: true, files: [] });
  });

  it('pairs raw records with numstat counts, renames and binaries included', () => {
    const out = [
      ':100644 100644 587be6b 0000000 M',
      'f',
      ':100644 100644 422c2b7 422c2b7 R100',
      'g',
      'h',
      ':000000 100644 0000000 abcdef0 A',
      'logo.png',
      '2\t1\tf',
      '0\t0\t',
      'g',
      'h',
      '-\t-\tlogo.png',
      '',
    ].join('\0');
    expect(parseRawNumstat(out)).toEqual([
      expect.objectContaining({ path: 'f', oldPath: '', change: gitV1.FileChange.MODIFIED, additions: 2, deletions: 1, binary: false }),
      expect.objectContaining({ path: 'h', oldPath: 'g', change: gitV1.FileChange.RENAMED, additions: 0, deletions: 0 }),
      expect.objectContaining({ path: 'logo.png', change: gitV1.FileChange.ADDED, binary: true }),
    ]);
    expect(parseRawNumstat('')).toEqual([]);
  });

  it('splits a patch per file', () => {
    const patch = 'diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+diff --git y\ndiff --git a/b b/b\nnew file mode 100644\n';
    expect(splitPatch(patch)).toEqual(['diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+diff --git y\n', 'diff --git a/b b/b\nnew file mode 100644\n']);
  });

  it('reads log records, with the restore trailer and a subject that contains the separator-looking text', () => {
    const sha = 'a'.repeat(40);
    const record = (parents: string, trailer: string, subject: string) =>
      [sha, parents, 'Ann', 'ann@x.test', '2026-01-01T00:00:00+00:00', '2026-01-02T00:00:00+00:00', trailer, subject].join('\x1f');
    const out = `${record(`${'b'.repeat(40)} ${'c'.repeat(40)}`, `${'d'.repeat(40)}\n`, 'Merge: a | b')}\0\n${record('', '', 'Initial commit')}\0`;
    expect(parseGitLog(out)).toEqual([
      {
        sha,
        parentShas: ['b'.repeat(40), 'c'.repeat(40)],
        authorName: 'Ann',
        authorEmail: 'ann@x.test',
        authoredAt: '2026-01-01T00:00:00+00:00',
        committedAt: '2026-01-02T00:00:00+00:00',
        restoredFrom: 'd'.repeat(40),
        message: 'Merge: a | b',
      },
      expect.objectContaining({ parentShas: [], restoredFrom: '', message: 'Initial commit' }),
    ]);
  });
});

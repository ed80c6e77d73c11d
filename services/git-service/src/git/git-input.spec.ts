import { ErrorCode } from '@overskill/contracts';
import { assertAppId } from './app-id';
import { resolveRepoPath } from './resolve-repo-path';
import { refNameProblem } from './validate-ref-name';
import { assertRevision } from './validate-revision';

describe('refNameProblem', () => {
  it.each(['main', 'feature/login-page', 'fix_2', 'v1.2', 'ünïcode'])('accepts %s', (name) => {
    expect(refNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['a..b', 'contains ".."'],
    ['bad\x07bell', 'contains a control character'],
    ['new\nline', 'contains a control character'],
    ['with space', 'contains a space'],
    ['-rf', 'starts with "-"'],
    ['HEAD', 'is reserved'],
    ['refs/heads/x', 'is reserved'],
    ['x.lock', 'ending with ".lock"'],
    ['.hidden', 'starting with "."'],
    ['a//b', 'empty path component'],
    ['trailing/', 'empty path component'],
    ['ends.', 'ends with "."'],
    ['at@{1}', '"@{"'],
    ['colon:x', 'contains a space or one of'],
    ['x'.repeat(101), 'longer than 100'],
  ])('refuses %j (%s)', (name, reason) => {
    expect(refNameProblem(name)).toContain(reason);
  });
});

describe('assertRevision', () => {
  it.each(['HEAD', 'main', 'HEAD~2', 'abc1234', 'bookmark/launch', 'main^'])('accepts %s', (rev) => {
    expect(assertRevision(rev)).toBe(rev);
  });

  it.each(['', '--output=/tmp/x', 'a..b', 'HEAD main', 'x\ny'])('refuses %j as GIT_REVISION_NOT_FOUND', (rev) => {
    expect(() => assertRevision(rev)).toThrow(expect.objectContaining({ code: ErrorCode.GIT_REVISION_NOT_FOUND }));
  });
});

describe('resolveRepoPath', () => {
  it('normalizes paths inside the repository', () => {
    expect(resolveRepoPath('src/./App.jsx')).toBe('src/App.jsx');
    expect(resolveRepoPath('src\\main.jsx')).toBe('src/main.jsx');
    expect(resolveRepoPath('src/')).toBe('src');
    expect(resolveRepoPath('a/../b.txt')).toBe('b.txt');
    expect(resolveRepoPath('.')).toBe('');
  });

  it.each(['../secret', 'a/../../etc/passwd', '/etc/passwd', 'C:/Windows', '.git/config', 'nul\0byte'])('refuses %j as GIT_PATH_OUTSIDE_REPO', (path) => {
    expect(() => resolveRepoPath(path)).toThrow(expect.objectContaining({ code: ErrorCode.GIT_PATH_OUTSIDE_REPO }));
  });
});

describe('assertAppId', () => {
  it('accepts a uuid and refuses anything that could name another folder', () => {
    expect(() => assertAppId('7d0b5c7e-7a3e-4c1e-9f55-8d1c2b3a4f5e')).not.toThrow();
    for (const bad of ['..', '../7d0b5c7e-7a3e-4c1e-9f55-8d1c2b3a4f5e', '', 'app-1']) {
      expect(() => assertAppId(bad)).toThrow(expect.objectContaining({ code: ErrorCode.GIT_REPO_NOT_FOUND }));
    }
  });
});

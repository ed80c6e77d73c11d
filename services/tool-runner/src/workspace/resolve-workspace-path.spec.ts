import { ErrorCode } from '@overskill/contracts';
import { isGitInternalsName, resolveWorkspacePath } from './resolve-workspace-path';

const ROOT = '/srv/workspaces';
const APP = '0b7f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e';

describe('resolveWorkspacePath', () => {
  it.each([
    ['index.html', 'index.html'],
    ['src/app.js', 'src/app.js'],
    ['./src/../src/app.js', 'src/app.js'],
    ['a\\b.txt', 'a/b.txt'],
    ['src//deep/', 'src/deep'],
    ['.gitignore', '.gitignore'],
    ['.github/workflows/ci.yml', '.github/workflows/ci.yml'],
    ['%2e%2e/x', '%2e%2e/x'],
    ['café.txt', 'café.txt'],
  ])('keeps %s inside the workspace', (path, rel) => {
    const resolved = resolveWorkspacePath(ROOT, APP, path);
    expect(resolved.relative).toBe(rel);
    expect(resolved.absolute).toBe(`${ROOT}/${APP}/${rel}`);
  });

  it.each(['../other/file', '..', 'a/../../x', '/etc/passwd', 'C:\\windows\\x', '..\\..\\x', 'a\0b', '.', './'])('refuses %j as outside', (path) => {
    expect(() => resolveWorkspacePath(ROOT, APP, path)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE }));
  });

  it.each([
    ['fullwidth dots', '\uff0e\uff0e/x'],
    ['one-dot leaders', '\u2024\u2024/x'],
    ['fullwidth solidus', 'a\uff0fb'],
    ['RTL override', 'invoice\u202egnp.js'],
    ['zero-width space', 'a\u200b.txt'],
    ['a control character', 'a\u0007.txt'],
    ['NFD instead of NFC', 'cafe\u0301.txt'],
    ['a name over 255 bytes', `${'x'.repeat(256)}.txt`],
  ])('refuses %s with TOOL_PATH_INVALID', (_what, path) => {
    expect(() => resolveWorkspacePath(ROOT, APP, path)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PATH_INVALID }));
  });

  it('refuses .git internals at any depth and in any spelling', () => {
    for (const path of ['.git/config', '.git', 'x/../.git/hooks/pre-commit', '.GIT/config', '.git./HEAD', 'sub/.git/config']) {
      expect(() => resolveWorkspacePath(ROOT, APP, path)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PATH_PROTECTED }));
    }
    expect(isGitInternalsName('.gitignore')).toBe(false);
  });

  it('gives the root only when asked for a folder to search', () => {
    expect(resolveWorkspacePath(ROOT, APP, '.', { allowRoot: true }).relative).toBe('.');
  });

  it('refuses an app id that is not one (no sibling-prefix tricks)', () => {
    expect(() => resolveWorkspacePath(ROOT, `${APP}-evil`, 'x')).toThrow(expect.objectContaining({ code: ErrorCode.APP_NOT_FOUND }));
    expect(() => resolveWorkspacePath(ROOT, '../etc', 'x')).toThrow(expect.objectContaining({ code: ErrorCode.APP_NOT_FOUND }));
  });
});

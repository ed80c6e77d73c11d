import { ErrorCode } from '@overskill/contracts';
import { resolveWorkspacePath } from './resolve-workspace-path';

const ROOT = '/srv/workspaces';
const APP = '0b7f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e';

describe('resolveWorkspacePath', () => {
  it.each([
    ['index.html', 'index.html'],
    ['src/app.js', 'src/app.js'],
    ['./src/../src/app.js', 'src/app.js'],
    ['a\\b.txt', 'a/b.txt'],
    ['.gitignore', '.gitignore'],
  ])('keeps %s inside the workspace', (path, rel) => {
    const resolved = resolveWorkspacePath(ROOT, APP, path, { forWrite: true });
    expect(resolved.relative).toBe(rel);
    expect(resolved.absolute).toBe(`${ROOT}/${APP}/${rel}`);
  });

  it.each(['../other/file', '..', 'a/../../x', '/etc/passwd', 'C:\\windows\\x', '..\\..\\x', 'a\0b', '.'])('refuses %j', (path) => {
    expect(() => resolveWorkspacePath(ROOT, APP, path, { forWrite: false })).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE }));
  });

  it('refuses writes into .git but allows reading elsewhere', () => {
    for (const path of ['.git/config', '.git', 'x/../.git/hooks/pre-commit']) {
      expect(() => resolveWorkspacePath(ROOT, APP, path, { forWrite: true })).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE }));
    }
  });

  it('refuses an app id that is not one (no sibling-prefix tricks)', () => {
    expect(() => resolveWorkspacePath(ROOT, `${APP}-evil`, 'x', { forWrite: false })).toThrow(expect.objectContaining({ code: ErrorCode.APP_NOT_FOUND }));
    expect(() => resolveWorkspacePath(ROOT, '../etc', 'x', { forWrite: false })).toThrow(expect.objectContaining({ code: ErrorCode.APP_NOT_FOUND }));
  });
});

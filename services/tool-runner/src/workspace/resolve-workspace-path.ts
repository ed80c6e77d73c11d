import { AppError, ErrorCode } from '@overskill/contracts';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

const APP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Turns a model-supplied path into an absolute path inside the app's workspace, or refuses.
// Lexical only: callers that touch the disk also check the real path (symlinks).
export function resolveWorkspacePath(workspacesDir: string, appId: string, path: string, opts: { forWrite: boolean }): { root: string; absolute: string; relative: string } {
  if (!APP_ID.test(appId)) throw new AppError(ErrorCode.APP_NOT_FOUND, 'Not an app id');
  const root = join(workspacesDir, appId);
  if (typeof path !== 'string' || path.length === 0) throw new AppError(ErrorCode.TOOL_INPUT_INVALID, 'path must be a non-empty relative path');
  if (path.includes('\0')) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, 'path contains a NUL byte');
  if (isAbsolute(path) || /^[a-zA-Z]:[\\/]/.test(path)) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `"${path}" is absolute; give a path relative to the app root`);
  const rel = normalize(path.replace(/\\/g, '/'));
  if (rel === '..' || rel.startsWith(`..${sep}`) || rel === '.' ) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `"${path}" points outside the app workspace`);
  const absolute = join(root, rel);
  const back = relative(root, absolute);
  if (back.startsWith('..') || isAbsolute(back)) throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, `"${path}" points outside the app workspace`);
  if (opts.forWrite && (back === '.git' || back.startsWith(`.git${sep}`))) {
    throw new AppError(ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE, 'The .git folder is managed by overskill; the agent may not write there');
  }
  return { root, absolute, relative: back };
}

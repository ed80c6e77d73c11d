import { AppError, ErrorCode } from '@overskill/contracts';
import { posix } from 'node:path';
import { printable } from './control-characters';

// A path from a request, as git names it in a tree: relative to the repository root, with
// forward slashes. Anything that leads outside the repository, or into .git, is refused.
export function resolveRepoPath(path: string): string {
  if (path.includes('\0')) throw new AppError(ErrorCode.GIT_PATH_OUTSIDE_REPO, 'path contains a NUL byte');
  const slashed = path.replace(/\\/g, '/').trim();
  if (slashed.startsWith('/') || /^[a-zA-Z]:\//.test(slashed))
    throw new AppError(ErrorCode.GIT_PATH_OUTSIDE_REPO, `"${printable(path, 200)}" is absolute; give a path relative to the repository root`);
  const normal = posix.normalize(slashed).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../'))
    throw new AppError(ErrorCode.GIT_PATH_OUTSIDE_REPO, `"${printable(path, 200)}" points outside the repository`);
  if (normal === '.git' || normal.startsWith('.git/')) throw new AppError(ErrorCode.GIT_PATH_OUTSIDE_REPO, 'the .git folder is not part of any version');
  if (normal === '.' || normal === '') return '';
  return normal;
}

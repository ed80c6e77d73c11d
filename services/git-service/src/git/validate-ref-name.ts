import { AppError, ErrorCode } from '@overskill/contracts';
import { hasControlCharacter, printable } from './control-characters';

// Why a branch or bookmark name is refused, or undefined when it is fine: git's own
// check-ref-format rules, plus what would be read as an option or confused with HEAD.
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 100) return 'is longer than 100 characters';
  if (hasControlCharacter(name)) return 'contains a control character';
  if (/[ ~^:?*[\\]/.test(name)) return 'contains a space or one of ~ ^ : ? * [ \\';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{') || name === '@') return 'contains "@{" or is "@"';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name === 'HEAD' || name.startsWith('refs/')) return 'is reserved';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return 'ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'has a component starting with "."';
    if (part.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  return undefined;
}

export function assertBranchName(name: string): string {
  const problem = refNameProblem(name);
  if (problem) throw new AppError(ErrorCode.GIT_BRANCH_NAME_INVALID, `Branch name "${printable(name)}" ${problem}`);
  return name;
}

export function assertBookmarkName(name: string): string {
  const problem = refNameProblem(name);
  if (problem) throw new AppError(ErrorCode.GIT_BOOKMARK_NAME_INVALID, `Bookmark name "${printable(name)}" ${problem}`);
  return name;
}

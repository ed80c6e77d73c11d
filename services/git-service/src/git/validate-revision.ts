import { AppError, ErrorCode } from '@overskill/contracts';
import { hasControlCharacter, printable } from './control-characters';

// A revision names one commit (sha, branch, bookmark/<name>, HEAD~2, main^). It is resolved
// to a full sha before any other command sees it, so only its shape is checked here: nothing
// git could read as an option, a range or a second argument.
export function assertRevision(revision: string, field = 'revision'): string {
  const rev = revision.trim();
  if (rev.length === 0 || rev.length > 256 || rev.startsWith('-') || /\s/.test(rev) || hasControlCharacter(rev) || rev.includes('..')) {
    throw new AppError(ErrorCode.GIT_REVISION_NOT_FOUND, `${field} "${printable(rev, 64)}" is not a revision; give a commit sha, a branch or bookmark/<name>`);
  }
  return rev;
}

import { gitV1 } from '@overskill/contracts';

export interface ParsedFileStatus {
  path: string;
  originalPath: string;
  change: gitV1.FileChange;
  staged: boolean;
  unstaged: boolean;
}

export interface ParsedStatus {
  branch: string;
  headSha: string;
  detached: boolean;
  upstream: string;
  ahead: number;
  behind: number;
  files: ParsedFileStatus[];
}

const CHANGE_BY_LETTER: Record<string, gitV1.FileChange> = {
  A: gitV1.FileChange.ADDED,
  M: gitV1.FileChange.MODIFIED,
  D: gitV1.FileChange.DELETED,
  R: gitV1.FileChange.RENAMED,
  C: gitV1.FileChange.COPIED,
  T: gitV1.FileChange.TYPE_CHANGED,
};

export function changeForLetter(letter: string): gitV1.FileChange {
  return CHANGE_BY_LETTER[letter] ?? gitV1.FileChange.MODIFIED;
}

// `git status --porcelain=v2 --branch -z`: headers, then one NUL-terminated record per path
// (a rename carries its original path in the next field).
export function parseGitStatus(output: string): ParsedStatus {
  const status: ParsedStatus = { branch: '', headSha: '', detached: false, upstream: '', ahead: 0, behind: 0, files: [] };
  const fields = output.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? '';
    if (field.startsWith('# branch.oid ')) {
      const oid = field.slice('# branch.oid '.length);
      status.headSha = oid === '(initial)' ? '' : oid;
    } else if (field.startsWith('# branch.head ')) {
      const head = field.slice('# branch.head '.length);
      status.detached = head === '(detached)';
      status.branch = status.detached ? '' : head;
    } else if (field.startsWith('# branch.upstream ')) {
      status.upstream = field.slice('# branch.upstream '.length);
    } else if (field.startsWith('# branch.ab ')) {
      const [ahead, behind] = field.slice('# branch.ab '.length).split(' ');
      status.ahead = Math.abs(Number(ahead));
      status.behind = Math.abs(Number(behind));
    } else if (field.startsWith('1 ') || field.startsWith('2 ')) {
      const parts = field.split(' ');
      const [x = '.', y = '.'] = parts[1] ?? '..';
      // Ordinary records have 8 fields before the path, renames 9 (the score).
      const path = parts.slice(field.startsWith('1 ') ? 8 : 9).join(' ');
      const originalPath = field.startsWith('2 ') ? (fields[++i] ?? '') : '';
      status.files.push({ path, originalPath, change: changeForLetter(x !== '.' ? x : y), staged: x !== '.', unstaged: y !== '.' });
    } else if (field.startsWith('u ')) {
      status.files.push({ path: field.split(' ').slice(10).join(' '), originalPath: '', change: gitV1.FileChange.CONFLICTED, staged: true, unstaged: true });
    } else if (field.startsWith('? ')) {
      status.files.push({ path: field.slice(2), originalPath: '', change: gitV1.FileChange.UNTRACKED, staged: false, unstaged: true });
    }
  }
  return status;
}

import { gitV1 } from '@overskill/contracts';
import { changeForLetter } from './parse-git-status';

export interface ParsedFileDiff {
  path: string;
  oldPath: string;
  change: gitV1.FileChange;
  additions: number;
  deletions: number;
  binary: boolean;
  patch: string;
  patchTruncated: boolean;
}

// `git diff --raw --numstat -z`: the raw records (status, paths), then the numstat records
// (counts) in the same order. Binary files count `-`.
export function parseRawNumstat(output: string): ParsedFileDiff[] {
  const fields = output.split('\0');
  const files: ParsedFileDiff[] = [];
  let i = 0;
  for (; i < fields.length && (fields[i] ?? '').startsWith(':'); i++) {
    const letter = (fields[i] ?? '').split(' ').pop()?.charAt(0) ?? 'M';
    const twoPaths = letter === 'R' || letter === 'C';
    const first = fields[++i] ?? '';
    const second = twoPaths ? (fields[++i] ?? '') : '';
    files.push({
      path: twoPaths ? second : first,
      oldPath: twoPaths ? first : '',
      change: changeForLetter(letter),
      additions: 0,
      deletions: 0,
      binary: false,
      patch: '',
      patchTruncated: false,
    });
  }
  for (const file of files) {
    const counts = fields[i++] ?? '';
    const [added, deleted, path] = counts.split('\t');
    // A rename's numstat record has an empty path followed by the two paths.
    if (path === '') i += 2;
    file.binary = added === '-';
    file.additions = file.binary ? 0 : Number(added) || 0;
    file.deletions = file.binary ? 0 : Number(deleted) || 0;
  }
  return files;
}

// One unified patch per file, in the order git printed them (the same order as --raw).
export function splitPatch(patch: string): string[] {
  if (!patch) return [];
  return patch.split(/^(?=diff --git )/m).filter((part) => part.startsWith('diff --git '));
}

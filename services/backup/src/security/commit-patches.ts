import { findSecrets, type SecretMatch } from '@overskill/observability';

export interface CommitSecret extends SecretMatch {
  commit: string;
  path: string;
}

// Credentials in the added lines of `git log -p --unified=0 --format=%x00commit %H` output,
// each with the commit, the file and its line number in that commit's version of the file.
export function secretsInPatches(patches: string): { secrets: CommitSecret[]; commits: number } {
  const secrets: CommitSecret[] = [];
  let commits = 0;
  let commit = '';
  let path = '';
  let line = 0;
  for (const text of patches.split('\n')) {
    if (text.startsWith('\0commit ')) {
      commit = text.slice(8).trim();
      commits++;
    } else if (text.startsWith('+++ ')) {
      path = text.startsWith('+++ b/') ? text.slice(6) : '';
    } else if (text.startsWith('@@')) {
      line = Number(/\+(\d+)/.exec(text)?.[1] ?? 0);
    } else if (text.startsWith('+') && path) {
      for (const match of findSecrets(text.slice(1))) secrets.push({ ...match, line, commit, path });
      line++;
    }
  }
  return { secrets, commits };
}

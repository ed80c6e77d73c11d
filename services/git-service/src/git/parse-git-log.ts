export interface ParsedCommit {
  sha: string;
  parentShas: string[];
  authorName: string;
  authorEmail: string;
  authoredAt: string;
  committedAt: string;
  restoredFrom: string;
  message: string;
}

// One record per commit, fields separated by 0x1f; the subject comes last, so nothing in it
// can shift the fields before it.
export const LOG_FORMAT = '%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%(trailers:key=Restored-From,valueonly,separator=%x2C)%x1f%s';

// `git log -z --format=LOG_FORMAT`.
export function parseGitLog(output: string): ParsedCommit[] {
  return output
    .split('\0')
    .filter((record) => record.trim().length > 0)
    .map((record) => {
      const [sha = '', parents = '', authorName = '', authorEmail = '', authoredAt = '', committedAt = '', restoredFrom = '', ...subject] = record
        .replace(/^\n/, '')
        .split('\x1f');
      return {
        sha,
        parentShas: parents ? parents.split(' ') : [],
        authorName,
        authorEmail,
        authoredAt,
        committedAt,
        restoredFrom: restoredFrom.trim(),
        message: subject.join('\x1f'),
      };
    });
}

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { gitV1 } from '@overskill/contracts';
import type { ParsedFileDiff } from './parse-git-diff';
import type { ParsedCommit } from './parse-git-log';

export function toCommitReply(c: ParsedCommit): MessageInitShape<typeof gitV1.CommitSchema> {
  return {
    sha: c.sha,
    message: c.message,
    authorName: c.authorName,
    authorEmail: c.authorEmail,
    committedAt: c.committedAt,
    authoredAt: c.authoredAt,
    parentShas: c.parentShas,
    restoredFrom: c.restoredFrom,
  };
}

export function toFileDiffReply(f: ParsedFileDiff): MessageInitShape<typeof gitV1.FileDiffSchema> {
  return {
    path: f.path,
    oldPath: f.oldPath,
    change: f.change,
    additions: f.additions,
    deletions: f.deletions,
    binary: f.binary,
    patch: f.patch,
    patchTruncated: f.patchTruncated,
  };
}

export function diffTotals(files: ParsedFileDiff[]): { filesChanged: number; additions: number; deletions: number } {
  return { filesChanged: files.length, additions: files.reduce((n, f) => n + f.additions, 0), deletions: files.reduce((n, f) => n + f.deletions, 0) };
}

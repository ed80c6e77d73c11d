import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { Clock } from '../git/clock';
import { GitOperationRunner } from '../git/git-operation.runner';
import { identityFrom } from '../git/identity';
import { resolveRepoPath } from '../git/resolve-repo-path';
import { diffTotals, toCommitReply, toFileDiffReply } from '../git/to-commit-reply';
import { WorkspaceVolumeRepository } from '../git/workspace-volume.repository';
import { EMPTY_TREE, GitRepositoryRepository, type ReplyCap } from './git-repository.repository';
import { decodeLogPageToken, encodeLogPageToken } from './log-page-token';
import { REPO_TEMPLATES } from './repo-templates';
import { RevisionResolver } from './revision-resolver';

// Replies stay well inside NATS's 1 MB max_payload.
const MAX_SHOW_BYTES = 768 * 1024;
// A tree answer must fit NATS max_payload too: capped by entries and by the bytes of its paths.
const MAX_TREE_ENTRIES = 20_000;
const MAX_TREE_BYTES = 768 * 1024;
const MAX_PATCH_BYTES = 512 * 1024;
const MAX_MESSAGE_CHARS = 10_000;

@Injectable()
export class RepoService {
  constructor(
    private readonly runner: GitOperationRunner,
    private readonly history: GitRepositoryRepository,
    private readonly volume: WorkspaceVolumeRepository,
    private readonly revisions: RevisionResolver,
    private readonly clock: Clock,
  ) {}

  // Built in a temporary folder and moved into place, so a crash never leaves half a repository.
  init(req: RpcRequest<typeof Rpc.gitRepoInit>): Promise<RpcReply<typeof Rpc.gitRepoInit>> {
    return this.runner.create('init', req.appId, async () => {
      const template = req.template || 'empty';
      const files = REPO_TEMPLATES[template];
      if (!files)
        throw new AppError(ErrorCode.GIT_TEMPLATE_UNKNOWN, `Unknown template "${template.slice(0, 64)}"; use one of ${Object.keys(REPO_TEMPLATES).join(', ')}`);
      const identity = identityFrom(req.authorName, req.authorEmail);
      const temp = await this.volume.makeTempDir(req.appId);
      try {
        await this.volume.writeFiles(temp, files);
        const headSha = await this.history.init(temp, identity, 'Initial commit');
        await this.volume.writeMarker(temp, { appId: req.appId, createdAt: new Date(this.clock.now()).toISOString(), source: `template:${template}` });
        if (!(await this.volume.moveIntoPlace(temp, req.appId))) throw new AppError(ErrorCode.GIT_REPO_EXISTS, `App ${req.appId}'s folder already holds files`);
        // No template holds a file its own .gitignore leaves out, so the first commit holds them all.
        return { headSha, branch: 'main', files: Object.keys(files).sort() };
      } finally {
        await this.volume.remove(temp);
      }
    });
  }

  commit(req: RpcRequest<typeof Rpc.gitRepoCommit>): Promise<RpcReply<typeof Rpc.gitRepoCommit>> {
    return this.runner.write('commit', req.appId, async (dir) => {
      const author = identityFrom(req.authorName, req.authorEmail);
      const message = commitMessage(req.message, 'Update');
      await this.requireBranch(dir);
      const commit = await this.history.commitAll(dir, message, author);
      if (!commit) return { sha: await this.history.head(dir), created: false, filesChanged: 0 };
      return { sha: commit.sha, created: true, filesChanged: commit.filesChanged };
    });
  }

  log(req: RpcRequest<typeof Rpc.gitRepoLog>): Promise<RpcReply<typeof Rpc.gitRepoLog>> {
    return this.runner.read('log', req.appId, async (dir) => {
      const limit = Math.min(Math.max(req.limit || 50, 1), 1000);
      const path = req.path ? resolveRepoPath(req.path) : undefined;
      const page = req.pageToken
        ? decodeLogPageToken(req.pageToken)
        : { startSha: req.revision ? await this.revisions.commit(dir, req.revision) : 'HEAD', skip: 0 };
      const commits = await this.history.log(dir, { start: page.startSha, skip: page.skip, limit: limit + 1, path });
      // Later pages start from the first page's newest commit: the same walk, whatever is
      // committed meanwhile (with a path, the first matching commit walks the same way).
      const startSha = page.startSha === 'HEAD' ? (commits[0]?.sha ?? '') : page.startSha;
      const more = commits.length > limit;
      return {
        commits: commits.slice(0, limit).map(toCommitReply),
        nextPageToken: more ? encodeLogPageToken({ startSha, skip: page.skip + limit }) : '',
      };
    });
  }

  status(req: RpcRequest<typeof Rpc.gitRepoStatus>): Promise<RpcReply<typeof Rpc.gitRepoStatus>> {
    return this.runner.read('status', req.appId, async (dir) => {
      const status = await this.history.status(dir);
      return { ...status, clean: status.files.length === 0 };
    });
  }

  head(req: RpcRequest<typeof Rpc.gitRepoHead>): Promise<RpcReply<typeof Rpc.gitRepoHead>> {
    return this.runner.read('head', req.appId, async (dir) => {
      const head = await this.history.readHead(dir);
      return { headSha: head.sha, branch: head.branch ?? '', detached: head.branch === undefined };
    });
  }

  // from..to; `to` empty is the working tree. With only `to`, the change that version made.
  diff(req: RpcRequest<typeof Rpc.gitRepoDiff>): Promise<RpcReply<typeof Rpc.gitRepoDiff>> {
    return this.runner.read('diff', req.appId, async (dir) => {
      const path = req.path ? resolveRepoPath(req.path) || undefined : undefined;
      const toSha = req.toRevision ? await this.revisions.commit(dir, req.toRevision, 'to_revision') : undefined;
      let fromSha: string;
      if (req.fromEmptyTree) {
        if (req.fromRevision) throw new AppError(ErrorCode.VALIDATION_FAILED, 'give from_revision or from_empty_tree, not both');
        fromSha = EMPTY_TREE;
      } else if (req.fromRevision) fromSha = await this.revisions.commit(dir, req.fromRevision, 'from_revision');
      else if (toSha) fromSha = (await this.history.firstParent(dir, toSha)) ?? EMPTY_TREE;
      else fromSha = await this.revisions.commit(dir, 'HEAD');
      const files = await this.history.diff(dir, fromSha, { sha: toSha }, { path, patch: req.includePatch, maxPatchBytes: MAX_PATCH_BYTES });
      return { fromSha, toSha: toSha ?? '', files: files.map(toFileDiffReply), ...diffTotals(files) };
    });
  }

  show(req: RpcRequest<typeof Rpc.gitFileShow>): Promise<RpcReply<typeof Rpc.gitFileShow>> {
    return this.runner.read('show', req.appId, async (dir) => {
      const path = resolveRepoPath(req.path);
      if (!path) throw new AppError(ErrorCode.GIT_PATH_NOT_FOUND, 'path names the repository root; give a file');
      const commitSha = await this.revisions.commit(dir, req.revision || 'HEAD');
      const file = await this.history.fileAt(dir, commitSha, path, MAX_SHOW_BYTES);
      return { commitSha, path, content: file.content, sizeBytes: BigInt(file.size), binary: file.content.subarray(0, 8000).includes(0) };
    });
  }

  tree(req: RpcRequest<typeof Rpc.gitTreeList>): Promise<RpcReply<typeof Rpc.gitTreeList>> {
    return this.runner.read('tree', req.appId, async (dir) => {
      const commitSha = await this.revisions.commit(dir, req.revision || 'HEAD');
      const { entries, truncated } = await this.history.tree(dir, commitSha, treeCap(req.limit));
      return { commitSha, entries: entries.map((e) => ({ path: e.path, sizeBytes: BigInt(e.size) })), truncated };
    });
  }

  worktree(req: RpcRequest<typeof Rpc.gitWorktreeList>): Promise<RpcReply<typeof Rpc.gitWorktreeList>> {
    return this.runner.read('worktree', req.appId, (dir) => this.history.worktreeFiles(dir, treeCap(req.limit)));
  }

  // A new commit on the current branch whose tree is the version's: history before and after
  // stays, restoring twice changes nothing, and a commit made meanwhile outside overskill is
  // built upon, never overwritten. Uncommitted changes are refused unless the caller asks to
  // save them as a commit first.
  restore(req: RpcRequest<typeof Rpc.gitRepoRestore>): Promise<RpcReply<typeof Rpc.gitRepoRestore>> {
    return this.runner.write('restore', req.appId, async (dir) => {
      const author = identityFrom(req.authorName, req.authorEmail);
      await this.requireBranch(dir);
      const target = await this.revisions.commit(dir, req.revision);
      let head = await this.revisions.commit(dir, 'HEAD');
      const expected = req.expectedHeadSha.trim().toLowerCase();
      if (expected && !/^[0-9a-f]{7,64}$/.test(expected))
        throw new AppError(ErrorCode.VALIDATION_FAILED, 'expected_head_sha must be a commit sha (at least 7 hex digits)');
      if (expected && !head.startsWith(expected)) {
        throw new AppError(
          ErrorCode.GIT_HEAD_MOVED,
          `HEAD is ${head.slice(0, 12)}, not ${req.expectedHeadSha.slice(0, 40)}: someone committed since; look again before restoring`,
          { headSha: head },
        );
      }
      const status = await this.history.status(dir);
      let savedPendingSha = '';
      if (status.files.length > 0) {
        if (!req.savePendingChanges) {
          const names = status.files.slice(0, 10).map((f) => f.path);
          throw new AppError(
            ErrorCode.GIT_WORKTREE_DIRTY,
            `${status.files.length} uncommitted change(s) (${names.join(', ')}${status.files.length > 10 ? ', …' : ''}); commit them, or restore with save_pending_changes`,
          );
        }
        const saved = await this.history.commitAll(dir, `Save uncommitted changes before restoring ${target.slice(0, 7)}`, author);
        if (saved) head = savedPendingSha = saved.sha;
      }
      const tree = await this.history.treeOf(dir, target);
      if (tree === (await this.history.treeOf(dir, head))) return { sha: head, created: false, restoredFrom: target, filesChanged: 0, savedPendingSha };
      const subject = commitMessage(
        req.message,
        `Restore version ${target.slice(0, 7)}: ${(await this.history.log(dir, { start: target, skip: 0, limit: 1 }))[0]?.message ?? ''}`.slice(0, 100),
      );
      const sha = await this.history.commitTree(dir, tree, head, [subject, `Restored-From: ${target}`], author);
      if (!(await this.history.fastForward(dir, sha))) {
        throw new AppError(ErrorCode.GIT_HEAD_MOVED, 'HEAD moved while restoring (a commit made outside overskill); nothing was changed, try again');
      }
      return { sha, created: true, restoredFrom: target, filesChanged: await this.history.changedFileCount(dir, head, sha), savedPendingSha };
    });
  }

  compare(req: RpcRequest<typeof Rpc.gitRepoCompare>): Promise<RpcReply<typeof Rpc.gitRepoCompare>> {
    return this.runner.read('compare', req.appId, async (dir) => {
      const baseSha = await this.revisions.commit(dir, req.baseRevision, 'base_revision');
      const headSha = await this.revisions.commit(dir, req.headRevision || 'HEAD', 'head_revision');
      const limit = Math.min(Math.max(req.commitLimit || 100, 1), 1000);
      const [mergeBase, counts, commits, files, baseTree, headTree] = await Promise.all([
        this.history.mergeBase(dir, baseSha, headSha),
        this.history.countBetween(dir, baseSha, headSha),
        this.history.commitsBetween(dir, baseSha, headSha, limit),
        this.history.diff(dir, baseSha, { sha: headSha }, { patch: false, maxPatchBytes: 0 }),
        this.history.treeOf(dir, baseSha),
        this.history.treeOf(dir, headSha),
      ]);
      return {
        baseSha,
        headSha,
        mergeBaseSha: mergeBase ?? '',
        ...counts,
        commits: commits.map(toCommitReply),
        files: files.map(toFileDiffReply),
        ...diffTotals(files),
        identicalTrees: baseTree === headTree,
      };
    });
  }

  // A commit on a detached HEAD would belong to no branch and could be lost.
  private async requireBranch(dir: string): Promise<void> {
    if (!(await this.history.currentBranch(dir)))
      throw new AppError(ErrorCode.GIT_HEAD_DETACHED, 'HEAD is not on a branch (detached); switch to a branch first');
  }
}

// A listing's cap: the caller's limit (the service's when 0), never above the service's.
function treeCap(limit: number): ReplyCap {
  return { limit: limit > 0 ? Math.min(limit, MAX_TREE_ENTRIES) : MAX_TREE_ENTRIES, maxPathBytes: MAX_TREE_BYTES };
}

function commitMessage(message: string, fallback: string): string {
  const text = message.replace(/\0/g, '').trim() || fallback;
  if (text.length > MAX_MESSAGE_CHARS) throw new AppError(ErrorCode.VALIDATION_FAILED, `message is longer than ${MAX_MESSAGE_CHARS} characters`);
  return text;
}

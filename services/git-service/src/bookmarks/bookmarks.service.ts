import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { GitOperationRunner } from '../git/git-operation.runner';
import { identityFrom } from '../git/identity';
import { assertBookmarkName } from '../git/validate-ref-name';
import { RevisionResolver } from '../repository/revision-resolver';
import { BOOKMARK_PREFIX, GitBookmarksRepository, type BookmarkRow } from './git-bookmarks.repository';

const MAX_NOTE_CHARS = 2000;

@Injectable()
export class BookmarksService {
  constructor(
    private readonly runner: GitOperationRunner,
    private readonly bookmarks: GitBookmarksRepository,
    private readonly revisions: RevisionResolver,
  ) {}

  // Naming the same commit again is a no-op; a name already on another commit is refused
  // (delete it first), so a bookmark never moves silently.
  create(req: RpcRequest<typeof Rpc.gitBookmarkCreate>): Promise<RpcReply<typeof Rpc.gitBookmarkCreate>> {
    return this.runner.write('bookmark_create', req.appId, async (dir) => {
      const author = identityFrom(req.authorName, req.authorEmail);
      const name = assertBookmarkName(req.name);
      const note = req.note.replace(/\0/g, '').trim();
      if (note.length > MAX_NOTE_CHARS) throw new AppError(ErrorCode.VALIDATION_FAILED, `note is longer than ${MAX_NOTE_CHARS} characters`);
      const sha = await this.revisions.commit(dir, req.revision || 'HEAD');
      const existing = await this.find(dir, name);
      if (existing) {
        if (existing.sha === sha) return { bookmark: toBookmark(existing), created: false };
        throw new AppError(
          ErrorCode.GIT_BOOKMARK_EXISTS,
          `Bookmark ${name} already names ${existing.sha.slice(0, 12)}; delete it first or choose another name`,
        );
      }
      await this.bookmarks.create(dir, name, sha, note, author);
      const created = await this.find(dir, name);
      if (!created) throw new AppError(ErrorCode.GIT_BOOKMARK_NOT_FOUND, `Bookmark ${name} vanished right after it was created`);
      return { bookmark: toBookmark(created), created: true };
    });
  }

  list(req: RpcRequest<typeof Rpc.gitBookmarkList>): Promise<RpcReply<typeof Rpc.gitBookmarkList>> {
    return this.runner.read('bookmark_list', req.appId, async (dir) => ({ bookmarks: (await this.bookmarks.list(dir)).map(toBookmark) }));
  }

  // Only the name goes; the commit stays in history.
  delete(req: RpcRequest<typeof Rpc.gitBookmarkDelete>): Promise<RpcReply<typeof Rpc.gitBookmarkDelete>> {
    return this.runner.write('bookmark_delete', req.appId, async (dir) => {
      const name = assertBookmarkName(req.name);
      const existing = await this.find(dir, name);
      if (!existing) throw new AppError(ErrorCode.GIT_BOOKMARK_NOT_FOUND, `No bookmark named ${name}`);
      await this.bookmarks.delete(dir, name, existing.tagSha);
      return { sha: existing.sha };
    });
  }

  private async find(dir: string, name: string): Promise<BookmarkRow | undefined> {
    return (await this.bookmarks.list(dir)).find((b) => b.name === name);
  }
}

function toBookmark(row: BookmarkRow) {
  return { name: row.name, sha: row.sha, note: row.note, createdAt: row.createdAt, createdBy: row.createdBy, revision: `${BOOKMARK_PREFIX}${row.name}` };
}

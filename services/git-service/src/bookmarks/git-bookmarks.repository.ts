import { Injectable } from '@nestjs/common';
import { GitCli } from '../git/git-cli';
import type { Identity } from '../git/identity';

export interface BookmarkRow {
  name: string;
  sha: string;
  // The annotated tag object, the expected old value when deleting.
  tagSha: string;
  note: string;
  createdAt: string;
  createdBy: string;
}

// Bookmarks are annotated tags under refs/tags/bookmark/: any git tool sees them, they travel
// with a push, and `bookmark/<name>` works as a revision everywhere.
export const BOOKMARK_PREFIX = 'bookmark/';
const FORMAT = '%(refname:strip=3)%1f%(objectname)%1f%(*objectname)%1f%(taggername) %(taggeremail)%1f%(taggerdate:iso-strict)%1f%(contents)%1e';

@Injectable()
export class GitBookmarksRepository {
  constructor(private readonly git: GitCli) {}

  async list(dir: string): Promise<BookmarkRow[]> {
    const out = (await this.git.run(dir, ['for-each-ref', '--sort=-taggerdate', `--format=${FORMAT}`, 'refs/tags/bookmark'])).stdout;
    return out
      .split('\x1e')
      .map((record) => record.replace(/^\n/, ''))
      .filter(Boolean)
      .map((record) => {
        const [name = '', tagSha = '', peeled = '', createdBy = '', createdAt = '', ...note] = record.split('\x1f');
        // A lightweight tag someone made by hand has no tag object: it names the commit itself.
        return { name, tagSha, sha: peeled || tagSha, createdBy: createdBy.trim(), createdAt, note: note.join('\x1f').trim() };
      });
  }

  async create(dir: string, name: string, sha: string, note: string, author: Identity): Promise<void> {
    await this.git.run(dir, ['tag', '-a', '-m', note || `Bookmark ${name}`, `${BOOKMARK_PREFIX}${name}`, sha], {
      env: { GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email },
    });
  }

  async delete(dir: string, name: string, tagSha: string): Promise<void> {
    await this.git.run(dir, ['update-ref', '-d', `refs/tags/${BOOKMARK_PREFIX}${name}`, tagSha]);
  }
}

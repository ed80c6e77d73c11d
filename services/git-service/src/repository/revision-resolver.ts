import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { GitRepositoryRepository } from './git-repository.repository';
import { assertRevision } from '../git/validate-revision';

// Turns a revision from a request into the full sha of a commit, or GIT_REVISION_NOT_FOUND.
@Injectable()
export class RevisionResolver {
  constructor(private readonly history: GitRepositoryRepository) {}

  async commit(dir: string, revision: string, field = 'revision'): Promise<string> {
    const rev = assertRevision(revision, field);
    const sha = await this.history.resolveCommit(dir, rev);
    if (!sha) throw new AppError(ErrorCode.GIT_REVISION_NOT_FOUND, `${field} "${rev}" names no commit in this repository`);
    return sha;
  }
}

import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { Clock } from '../git/clock';
import { GitOperationRunner } from '../git/git-operation.runner';
import { assertBranchName } from '../git/validate-ref-name';
import { GitRepositoryRepository } from '../repository/git-repository.repository';
import { RevisionResolver } from '../repository/revision-resolver';
import { GitBranchesRepository, type BranchRow } from './git-branches.repository';

@Injectable()
export class BranchesService {
  constructor(
    private readonly runner: GitOperationRunner,
    private readonly branches: GitBranchesRepository,
    private readonly history: GitRepositoryRepository,
    private readonly revisions: RevisionResolver,
    private readonly clock: Clock,
  ) {}

  create(req: RpcRequest<typeof Rpc.gitBranchCreate>): Promise<RpcReply<typeof Rpc.gitBranchCreate>> {
    return this.runner.write('branch_create', req.appId, async (dir) => {
      const name = assertBranchName(req.name);
      const from = req.fromRevision || 'HEAD';
      const sha = await this.revisions.commit(dir, from, 'from_revision');
      if (await this.branches.tip(dir, name)) throw new AppError(ErrorCode.GIT_BRANCH_EXISTS, `Branch ${name} already exists`);
      // Checked before anything is written: a refused switch leaves no new branch behind.
      if (req.switchTo) await this.requireClean(dir, name);
      await this.branches.create(dir, name, sha, from);
      if (req.switchTo) await this.branches.switchTo(dir, name);
      return { branch: await this.row(dir, name) };
    });
  }

  list(req: RpcRequest<typeof Rpc.gitBranchList>): Promise<RpcReply<typeof Rpc.gitBranchList>> {
    return this.runner.read('branch_list', req.appId, async (dir) => {
      const branches = await this.branches.list(dir);
      return { branches, current: branches.find((b) => b.current)?.name ?? '' };
    });
  }

  // Refused while there are uncommitted changes: they would silently travel to the other branch.
  switch(req: RpcRequest<typeof Rpc.gitBranchSwitch>): Promise<RpcReply<typeof Rpc.gitBranchSwitch>> {
    return this.runner.write('branch_switch', req.appId, async (dir) => {
      const name = assertBranchName(req.name);
      if (!(await this.branches.tip(dir, name))) throw new AppError(ErrorCode.GIT_BRANCH_NOT_FOUND, `Branch ${name} does not exist`);
      const previous = (await this.history.currentBranch(dir)) ?? '';
      if (previous !== name) {
        await this.requireClean(dir, name);
        await this.branches.switchTo(dir, name);
      }
      return { branch: await this.row(dir, name), previous };
    });
  }

  // Never the current branch. A branch whose commits are on no other branch or bookmark needs
  // `force`, and even then its tip is kept under refs/overskill/deleted-branches/.
  delete(req: RpcRequest<typeof Rpc.gitBranchDelete>): Promise<RpcReply<typeof Rpc.gitBranchDelete>> {
    return this.runner.write('branch_delete', req.appId, async (dir) => {
      const name = assertBranchName(req.name);
      const sha = await this.branches.tip(dir, name);
      if (!sha) throw new AppError(ErrorCode.GIT_BRANCH_NOT_FOUND, `Branch ${name} does not exist`);
      if ((await this.history.currentBranch(dir)) === name)
        throw new AppError(ErrorCode.GIT_BRANCH_CURRENT, `Branch ${name} is the current branch; switch to another branch first`);
      let archivedRef = '';
      if ((await this.branches.otherRefsContaining(dir, sha, name)).length === 0) {
        if (!req.force)
          throw new AppError(
            ErrorCode.GIT_BRANCH_NOT_MERGED,
            `Branch ${name} has commits that are on no other branch; delete with force to keep them only in the archive`,
          );
        archivedRef = `refs/overskill/deleted-branches/${name}/${this.clock.now()}`;
        await this.branches.keep(dir, archivedRef, sha);
      }
      await this.branches.delete(dir, name, sha);
      return { sha, archivedRef };
    });
  }

  private async requireClean(dir: string, target: string): Promise<void> {
    const status = await this.history.status(dir);
    if (status.files.length > 0) {
      throw new AppError(ErrorCode.GIT_WORKTREE_DIRTY, `${status.files.length} uncommitted change(s); commit them before switching to ${target}`);
    }
  }

  private async row(dir: string, name: string): Promise<BranchRow> {
    const row = (await this.branches.list(dir)).find((b) => b.name === name);
    if (!row) throw new AppError(ErrorCode.GIT_BRANCH_NOT_FOUND, `Branch ${name} does not exist`);
    return row;
  }
}

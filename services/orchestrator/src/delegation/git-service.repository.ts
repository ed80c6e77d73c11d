import { Inject, Injectable } from '@nestjs/common';
import { Rpc, type gitV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';

export interface GitCaller {
  teamId: string;
  appId: string;
}

export interface GitAuthor {
  authorName: string;
  authorEmail: string;
}

// git-service owns the workspace's repository (and takes the app's write lock for what changes it).
@Injectable()
export class GitServiceRepository {
  constructor(
    private readonly client: NatsRpcClient,
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'RUN_GIT_TIMEOUT_MS'>,
  ) {}

  private opts(caller: GitCaller) {
    return { tenantId: caller.teamId, timeoutMs: this.env.RUN_GIT_TIMEOUT_MS };
  }

  // A new app's repository from a template. Its creation keeps the client's default deadline.
  init(caller: GitCaller, template: string): Promise<gitV1.RepoInitResponse> {
    return this.client.send(Rpc.gitRepoInit, { appId: caller.appId, template }, { tenantId: caller.teamId });
  }

  // The commit HEAD is at, without walking the working tree.
  head(caller: GitCaller): Promise<gitV1.RepoHeadResponse> {
    return this.client.send(Rpc.gitRepoHead, { appId: caller.appId }, this.opts(caller));
  }

  commit(caller: GitCaller, message: string, author: GitAuthor): Promise<gitV1.RepoCommitResponse> {
    return this.client.send(Rpc.gitRepoCommit, { appId: caller.appId, message, ...author }, this.opts(caller));
  }

  // Files changed from..to (`toRevision` empty: the working tree; only `toRevision`: what that version changed).
  diff(caller: GitCaller, range: { fromRevision?: string; toRevision?: string }): Promise<gitV1.RepoDiffResponse> {
    return this.client.send(Rpc.gitRepoDiff, { appId: caller.appId, ...range }, this.opts(caller));
  }

  // Every file of the workspace as the next commit would hold them, paths only.
  worktreeFiles(caller: GitCaller): Promise<gitV1.WorktreeListResponse> {
    return this.client.send(Rpc.gitWorktreeList, { appId: caller.appId }, this.opts(caller));
  }

  // A remote repository into the caller's (new) workspace. The token travels in its own field:
  // git-service hands it to git as a header of that one command, never into the URL or config.
  clone(caller: GitCaller, remote: { url: string; token: string; branch: string }): Promise<gitV1.RepoCloneResponse> {
    return this.client.send(Rpc.gitRepoClone, { appId: caller.appId, ...remote }, this.opts(caller));
  }

  // Never forced; the same token handling as clone.
  push(caller: GitCaller, remote: { token: string; branch: string }): Promise<gitV1.RepoPushResponse> {
    return this.client.send(Rpc.gitRepoPush, { appId: caller.appId, ...remote }, this.opts(caller));
  }

  createBranch(caller: GitCaller, name: string, fromRevision: string): Promise<gitV1.BranchCreateResponse> {
    return this.client.send(Rpc.gitBranchCreate, { appId: caller.appId, name, fromRevision, switchTo: true }, this.opts(caller));
  }

  switchBranch(caller: GitCaller, name: string): Promise<gitV1.BranchSwitchResponse> {
    return this.client.send(Rpc.gitBranchSwitch, { appId: caller.appId, name }, this.opts(caller));
  }

  // Back to a revision; what is uncommitted is saved as a commit first.
  restore(caller: GitCaller, revision: string, message: string, author: GitAuthor): Promise<gitV1.RepoRestoreResponse> {
    return this.client.send(Rpc.gitRepoRestore, { appId: caller.appId, revision, savePendingChanges: true, message, ...author }, this.opts(caller));
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { gitV1, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { delegateCall } from './delegate-call';

export interface GitCaller {
  teamId: string;
  appId: string;
}

// git-service does the git work (and takes the app's write lock itself for what changes the repository).
@Injectable()
export class GitServiceRepository {
  constructor(
    private readonly client: NatsRpcClient,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'TOOL_DELEGATE_TIMEOUT_MS'>,
  ) {}

  private opts(caller: GitCaller) {
    return { timeoutMs: this.env.TOOL_DELEGATE_TIMEOUT_MS, tenantId: caller.teamId };
  }

  // One file at a revision (the app preview of a version).
  showFile(caller: GitCaller, revision: string, path: string): Promise<gitV1.FileShowResponse> {
    return delegateCall(this.client, Rpc.gitFileShow, { appId: caller.appId, revision, path }, this.opts(caller));
  }

  status(caller: GitCaller): Promise<gitV1.RepoStatusResponse> {
    return delegateCall(this.client, Rpc.gitRepoStatus, { appId: caller.appId }, this.opts(caller));
  }

  // The commit HEAD is at, without walking the working tree.
  head(caller: GitCaller): Promise<gitV1.RepoHeadResponse> {
    return delegateCall(this.client, Rpc.gitRepoHead, { appId: caller.appId }, this.opts(caller));
  }

  commit(caller: GitCaller, message: string): Promise<gitV1.RepoCommitResponse> {
    return delegateCall(this.client, Rpc.gitRepoCommit, { appId: caller.appId, message }, this.opts(caller));
  }

  log(caller: GitCaller, query: { limit: number; path?: string; revision?: string }): Promise<gitV1.RepoLogResponse> {
    return delegateCall(
      this.client,
      Rpc.gitRepoLog,
      { appId: caller.appId, limit: query.limit, path: query.path ?? '', revision: query.revision ?? '' },
      this.opts(caller),
    );
  }

  diff(caller: GitCaller, query: { from?: string; to?: string; path?: string }): Promise<gitV1.RepoDiffResponse> {
    return delegateCall(
      this.client,
      Rpc.gitRepoDiff,
      { appId: caller.appId, fromRevision: query.from ?? '', toRevision: query.to ?? '', path: query.path ?? '', includePatch: true },
      this.opts(caller),
    );
  }

  listBranches(caller: GitCaller): Promise<gitV1.BranchListResponse> {
    return delegateCall(this.client, Rpc.gitBranchList, { appId: caller.appId }, this.opts(caller));
  }

  createBranch(caller: GitCaller, name: string, from: string | undefined, switchTo: boolean): Promise<gitV1.BranchCreateResponse> {
    return delegateCall(this.client, Rpc.gitBranchCreate, { appId: caller.appId, name, fromRevision: from ?? '', switchTo }, this.opts(caller));
  }

  switchBranch(caller: GitCaller, name: string): Promise<gitV1.BranchSwitchResponse> {
    return delegateCall(this.client, Rpc.gitBranchSwitch, { appId: caller.appId, name }, this.opts(caller));
  }

  deleteBranch(caller: GitCaller, name: string): Promise<gitV1.BranchDeleteResponse> {
    return delegateCall(this.client, Rpc.gitBranchDelete, { appId: caller.appId, name, force: false }, this.opts(caller));
  }
}

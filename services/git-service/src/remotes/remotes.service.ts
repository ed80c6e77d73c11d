import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';
import { Clock } from '../git/clock';
import { GitOperationRunner } from '../git/git-operation.runner';
import { AGENT_IDENTITY } from '../git/identity';
import { assertBranchName } from '../git/validate-ref-name';
import { WorkspaceVolumeRepository } from '../git/workspace-volume.repository';
import { GitBranchesRepository } from '../branches/git-branches.repository';
import { GitRepositoryRepository } from '../repository/git-repository.repository';
import { GitRemoteRepository, type RemoteAuth } from './git-remote.repository';
import { assertToken, parseRemoteUrl, type RemoteUrl } from './parse-remote-url';
import { remoteFailure } from './remote-failure';

@Injectable()
export class RemotesService {
  constructor(
    @Inject(GIT_SERVICE_ENV) private readonly env: GitServiceEnv,
    private readonly runner: GitOperationRunner,
    private readonly remotes: GitRemoteRepository,
    private readonly history: GitRepositoryRepository,
    private readonly branches: GitBranchesRepository,
    private readonly volume: WorkspaceVolumeRepository,
    private readonly clock: Clock,
  ) {}

  // A new app repository from a remote, built in a temporary folder: a failed clone leaves nothing.
  clone(req: RpcRequest<typeof Rpc.gitRepoClone>): Promise<RpcReply<typeof Rpc.gitRepoClone>> {
    return this.runner.create('clone', req.appId, async () => {
      const remote = this.remoteUrl(req.url);
      const auth = this.auth(remote, req.token);
      if (req.branch) assertBranchName(req.branch);
      const temp = await this.volume.makeTempDir(req.appId);
      try {
        const result = await this.remotes.clone(temp, remote.url, req.branch || undefined, auth, this.env.GIT_REMOTE_TIMEOUT_MS);
        if (result.exitCode !== 0) throw remoteFailure(result.stderr);
        // A cloned repository has no identity of its own; overskill's commits need one.
        await this.history.setIdentity(temp, AGENT_IDENTITY);
        await this.volume.writeMarker(temp, { appId: req.appId, createdAt: new Date(this.clock.now()).toISOString(), source: `clone:${remote.url}` });
        if (!(await this.volume.moveIntoPlace(temp, req.appId))) throw new AppError(ErrorCode.GIT_REPO_EXISTS, `App ${req.appId}'s folder already holds files`);
      } finally {
        await this.volume.remove(temp);
      }
      const dir = this.volume.repoDir(req.appId);
      return { headSha: (await this.history.resolveCommit(dir, 'HEAD')) ?? '', branch: (await this.history.currentBranch(dir)) ?? '' };
    });
  }

  push(req: RpcRequest<typeof Rpc.gitRepoPush>): Promise<RpcReply<typeof Rpc.gitRepoPush>> {
    return this.runner.write('push', req.appId, async (dir) => {
      const branch = req.branch ? assertBranchName(req.branch) : await this.history.currentBranch(dir);
      if (!branch) throw new AppError(ErrorCode.GIT_HEAD_DETACHED, 'HEAD is not on a branch; name the branch to push');
      const sha = await this.branches.tip(dir, branch);
      if (!sha) throw new AppError(ErrorCode.GIT_BRANCH_NOT_FOUND, `Branch ${branch} does not exist`);
      const origin = await this.remotes.originUrl(dir);
      let remote: RemoteUrl;
      let target = 'origin';
      if (req.url) {
        remote = this.remoteUrl(req.url);
        if (origin === undefined) await this.remotes.addOrigin(dir, remote.url);
        else if (origin !== remote.url) target = remote.url;
      } else {
        if (origin === undefined) throw new AppError(ErrorCode.GIT_REMOTE_NOT_CONFIGURED, 'The repository has no origin; pass the url to push to');
        remote = this.remoteUrl(origin);
      }
      const outcome = await this.remotes.push(dir, target, branch, this.auth(remote, req.token), this.env.GIT_REMOTE_TIMEOUT_MS);
      if (outcome.flag === '!') throw remoteFailure('[rejected]');
      if (outcome.exitCode !== 0 || outcome.flag === undefined) throw remoteFailure(outcome.stderr);
      return { branch, sha, remoteUrl: remote.url, upToDate: outcome.flag === '=' };
    });
  }

  private remoteUrl(raw: string): RemoteUrl {
    return parseRemoteUrl(raw, { allowedHosts: this.env.GIT_REMOTE_ALLOWED_HOSTS, allowHttp: this.env.GIT_REMOTE_ALLOW_HTTP });
  }

  // The request's token, else the service's GITHUB_TOKEN, else none (a public repository).
  private auth(remote: RemoteUrl, requestToken: string): RemoteAuth | undefined {
    const token = requestToken.trim() || this.env.GITHUB_TOKEN;
    if (!token) return undefined;
    assertToken(token);
    return { origin: remote.origin, token };
  }
}

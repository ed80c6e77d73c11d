import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { RepoService } from './repo.service';

@Controller()
export class RepoController {
  constructor(private readonly repos: RepoService) {}

  @RpcHandler(Rpc.gitRepoInit)
  init(@Payload() req: RpcRequest<typeof Rpc.gitRepoInit>): Promise<RpcReply<typeof Rpc.gitRepoInit>> {
    return this.repos.init(req);
  }

  @RpcHandler(Rpc.gitRepoCommit)
  commit(@Payload() req: RpcRequest<typeof Rpc.gitRepoCommit>): Promise<RpcReply<typeof Rpc.gitRepoCommit>> {
    return this.repos.commit(req);
  }

  @RpcHandler(Rpc.gitRepoLog)
  log(@Payload() req: RpcRequest<typeof Rpc.gitRepoLog>): Promise<RpcReply<typeof Rpc.gitRepoLog>> {
    return this.repos.log(req);
  }

  @RpcHandler(Rpc.gitRepoStatus)
  status(@Payload() req: RpcRequest<typeof Rpc.gitRepoStatus>): Promise<RpcReply<typeof Rpc.gitRepoStatus>> {
    return this.repos.status(req);
  }

  @RpcHandler(Rpc.gitRepoHead)
  head(@Payload() req: RpcRequest<typeof Rpc.gitRepoHead>): Promise<RpcReply<typeof Rpc.gitRepoHead>> {
    return this.repos.head(req);
  }

  @RpcHandler(Rpc.gitRepoDiff)
  diff(@Payload() req: RpcRequest<typeof Rpc.gitRepoDiff>): Promise<RpcReply<typeof Rpc.gitRepoDiff>> {
    return this.repos.diff(req);
  }

  @RpcHandler(Rpc.gitFileShow)
  show(@Payload() req: RpcRequest<typeof Rpc.gitFileShow>): Promise<RpcReply<typeof Rpc.gitFileShow>> {
    return this.repos.show(req);
  }

  @RpcHandler(Rpc.gitTreeList)
  tree(@Payload() req: RpcRequest<typeof Rpc.gitTreeList>): Promise<RpcReply<typeof Rpc.gitTreeList>> {
    return this.repos.tree(req);
  }

  @RpcHandler(Rpc.gitWorktreeList)
  worktree(@Payload() req: RpcRequest<typeof Rpc.gitWorktreeList>): Promise<RpcReply<typeof Rpc.gitWorktreeList>> {
    return this.repos.worktree(req);
  }

  @RpcHandler(Rpc.gitRepoRestore)
  restore(@Payload() req: RpcRequest<typeof Rpc.gitRepoRestore>): Promise<RpcReply<typeof Rpc.gitRepoRestore>> {
    return this.repos.restore(req);
  }

  @RpcHandler(Rpc.gitRepoCompare)
  compare(@Payload() req: RpcRequest<typeof Rpc.gitRepoCompare>): Promise<RpcReply<typeof Rpc.gitRepoCompare>> {
    return this.repos.compare(req);
  }
}

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
}

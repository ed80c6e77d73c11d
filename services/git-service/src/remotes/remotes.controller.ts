import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { RemotesService } from './remotes.service';

@Controller()
export class RemotesController {
  constructor(private readonly remotes: RemotesService) {}

  @RpcHandler(Rpc.gitRepoClone)
  clone(@Payload() req: RpcRequest<typeof Rpc.gitRepoClone>): Promise<RpcReply<typeof Rpc.gitRepoClone>> {
    return this.remotes.clone(req);
  }

  @RpcHandler(Rpc.gitRepoPush)
  push(@Payload() req: RpcRequest<typeof Rpc.gitRepoPush>): Promise<RpcReply<typeof Rpc.gitRepoPush>> {
    return this.remotes.push(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ResetService } from './reset.service';

@Controller()
export class ResetController {
  constructor(private readonly resets: ResetService) {}

  @RpcHandler(Rpc.gitRepoReset)
  reset(@Payload() req: RpcRequest<typeof Rpc.gitRepoReset>): Promise<RpcReply<typeof Rpc.gitRepoReset>> {
    return this.resets.reset(req);
  }
}

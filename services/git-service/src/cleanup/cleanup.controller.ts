import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { CleanupService } from './cleanup.service';

@Controller()
export class CleanupController {
  constructor(private readonly cleanups: CleanupService) {}

  @RpcHandler(Rpc.gitRepoCleanup)
  cleanup(@Payload() req: RpcRequest<typeof Rpc.gitRepoCleanup>): Promise<RpcReply<typeof Rpc.gitRepoCleanup>> {
    return this.cleanups.cleanup(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { BranchesService } from './branches.service';

@Controller()
export class BranchesController {
  constructor(private readonly branches: BranchesService) {}

  @RpcHandler(Rpc.gitBranchCreate)
  create(@Payload() req: RpcRequest<typeof Rpc.gitBranchCreate>): Promise<RpcReply<typeof Rpc.gitBranchCreate>> {
    return this.branches.create(req);
  }

  @RpcHandler(Rpc.gitBranchList)
  list(@Payload() req: RpcRequest<typeof Rpc.gitBranchList>): Promise<RpcReply<typeof Rpc.gitBranchList>> {
    return this.branches.list(req);
  }

  @RpcHandler(Rpc.gitBranchSwitch)
  switch(@Payload() req: RpcRequest<typeof Rpc.gitBranchSwitch>): Promise<RpcReply<typeof Rpc.gitBranchSwitch>> {
    return this.branches.switch(req);
  }

  @RpcHandler(Rpc.gitBranchDelete)
  delete(@Payload() req: RpcRequest<typeof Rpc.gitBranchDelete>): Promise<RpcReply<typeof Rpc.gitBranchDelete>> {
    return this.branches.delete(req);
  }
}

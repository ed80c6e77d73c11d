import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { RouterAdminService } from './router-admin.service';

@Controller()
export class RouterAdminController {
  constructor(private readonly admin: RouterAdminService) {}

  @RpcHandler(Rpc.aiRouterStatus)
  status(): Promise<RpcReply<typeof Rpc.aiRouterStatus>> {
    return Promise.resolve(this.admin.status());
  }

  @RpcHandler(Rpc.aiCacheStats)
  cacheStats(): Promise<RpcReply<typeof Rpc.aiCacheStats>> {
    return this.admin.cacheStats();
  }

  @RpcHandler(Rpc.aiUsageSummary)
  usage(@Payload() req: RpcRequest<typeof Rpc.aiUsageSummary>): Promise<RpcReply<typeof Rpc.aiUsageSummary>> {
    return this.admin.usage(req);
  }

  @RpcHandler(Rpc.aiModelSwitch)
  switchModel(@Payload() req: RpcRequest<typeof Rpc.aiModelSwitch>): Promise<RpcReply<typeof Rpc.aiModelSwitch>> {
    return this.admin.switchModel(req);
  }
}

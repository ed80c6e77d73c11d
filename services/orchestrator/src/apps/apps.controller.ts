import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { AppsService } from './apps.service';

// No pipe here: the service checks the team id, so each handler takes the lean path (no Nest chain per request).
@Controller()
export class AppsController {
  constructor(private readonly apps: AppsService) {}

  @RpcHandler(Rpc.appCreate)
  create(@Payload() req: RpcRequest<typeof Rpc.appCreate>): Promise<RpcReply<typeof Rpc.appCreate>> {
    return this.apps.create(req);
  }

  @RpcHandler(Rpc.appGet)
  get(@Payload() req: RpcRequest<typeof Rpc.appGet>): Promise<RpcReply<typeof Rpc.appGet>> {
    return this.apps.get(req);
  }

  @RpcHandler(Rpc.appList)
  list(@Payload() req: RpcRequest<typeof Rpc.appList>): Promise<RpcReply<typeof Rpc.appList>> {
    return this.apps.list(req);
  }

  @RpcHandler(Rpc.appUpdate)
  update(@Payload() req: RpcRequest<typeof Rpc.appUpdate>): Promise<RpcReply<typeof Rpc.appUpdate>> {
    return this.apps.update(req);
  }

  @RpcHandler(Rpc.appDelete)
  delete(@Payload() req: RpcRequest<typeof Rpc.appDelete>): Promise<RpcReply<typeof Rpc.appDelete>> {
    return this.apps.delete(req);
  }

  @RpcHandler(Rpc.appIdsExist)
  idsExist(@Payload() req: RpcRequest<typeof Rpc.appIdsExist>): Promise<RpcReply<typeof Rpc.appIdsExist>> {
    return this.apps.idsExist(req);
  }
}

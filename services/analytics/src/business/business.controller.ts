import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { BusinessService } from './business.service';

@Controller()
export class BusinessController {
  constructor(private readonly business: BusinessService) {}

  @RpcHandler(Rpc.analyticsBusinessRead)
  read(@Payload() req: RpcRequest<typeof Rpc.analyticsBusinessRead>): Promise<RpcReply<typeof Rpc.analyticsBusinessRead>> {
    return this.business.read(req);
  }
}

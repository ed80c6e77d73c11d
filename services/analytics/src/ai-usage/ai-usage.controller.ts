import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { AiUsageService } from './ai-usage.service';

@Controller()
export class AiUsageController {
  constructor(private readonly usage: AiUsageService) {}

  @RpcHandler(Rpc.analyticsAiUsageDaily)
  daily(@Payload() req: RpcRequest<typeof Rpc.analyticsAiUsageDaily>): Promise<RpcReply<typeof Rpc.analyticsAiUsageDaily>> {
    return this.usage.daily(req);
  }
}

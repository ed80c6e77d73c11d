import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { PerformanceService } from './performance.service';

@Controller()
export class PerformanceController {
  constructor(private readonly performance: PerformanceService) {}

  @RpcHandler(Rpc.analyticsPerformanceRead)
  read(@Payload() req: RpcRequest<typeof Rpc.analyticsPerformanceRead>): Promise<RpcReply<typeof Rpc.analyticsPerformanceRead>> {
    return this.performance.read(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { EventsService } from './events.service';

@Controller()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @RpcHandler(Rpc.analyticsEventCount)
  count(@Payload() req: RpcRequest<typeof Rpc.analyticsEventCount>): Promise<RpcReply<typeof Rpc.analyticsEventCount>> {
    return this.events.count(req);
  }

  @RpcHandler(Rpc.analyticsToolStatsRead)
  toolStats(@Payload() req: RpcRequest<typeof Rpc.analyticsToolStatsRead>): Promise<RpcReply<typeof Rpc.analyticsToolStatsRead>> {
    return this.events.toolStats(req);
  }

  @RpcHandler(Rpc.analyticsEventSecretScan)
  secretScan(@Payload() req: RpcRequest<typeof Rpc.analyticsEventSecretScan>): Promise<RpcReply<typeof Rpc.analyticsEventSecretScan>> {
    return this.events.secretScan(req);
  }
}

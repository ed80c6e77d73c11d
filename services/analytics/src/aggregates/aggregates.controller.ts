import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { AggregatesService } from './aggregates.service';

@Controller()
export class AggregatesController {
  constructor(private readonly aggregates: AggregatesService) {}

  @RpcHandler(Rpc.analyticsAggregatesRebuild)
  rebuild(@Payload() req: RpcRequest<typeof Rpc.analyticsAggregatesRebuild>): Promise<RpcReply<typeof Rpc.analyticsAggregatesRebuild>> {
    return this.aggregates.rebuild(req);
  }

  @RpcHandler(Rpc.analyticsProbeGet)
  probe(@Payload() req: RpcRequest<typeof Rpc.analyticsProbeGet>): Promise<RpcReply<typeof Rpc.analyticsProbeGet>> {
    return this.aggregates.probe(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { RunsService } from './runs.service';

@Controller()
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @RpcHandler(Rpc.messagePost)
  postMessage(@Payload() req: RpcRequest<typeof Rpc.messagePost>): Promise<RpcReply<typeof Rpc.messagePost>> {
    return this.runs.postMessage(req);
  }

  @RpcHandler(Rpc.runGet)
  get(@Payload() req: RpcRequest<typeof Rpc.runGet>): Promise<RpcReply<typeof Rpc.runGet>> {
    return this.runs.get(req);
  }
}

import { Controller, UsePipes } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { RunsService } from './runs.service';
import { TeamIdPipe } from '../common/team-id.pipe';

@Controller()
@UsePipes(TeamIdPipe)
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @RpcHandler(Rpc.messagePost)
  postMessage(@Payload() req: RpcRequest<typeof Rpc.messagePost>): Promise<RpcReply<typeof Rpc.messagePost>> {
    return this.runs.postMessage(req);
  }

  @RpcHandler(Rpc.messageList)
  listMessages(@Payload() req: RpcRequest<typeof Rpc.messageList>): Promise<RpcReply<typeof Rpc.messageList>> {
    return this.runs.listMessages(req);
  }

  @RpcHandler(Rpc.runGet)
  get(@Payload() req: RpcRequest<typeof Rpc.runGet>): Promise<RpcReply<typeof Rpc.runGet>> {
    return this.runs.get(req);
  }

  @RpcHandler(Rpc.runList)
  list(@Payload() req: RpcRequest<typeof Rpc.runList>): Promise<RpcReply<typeof Rpc.runList>> {
    return this.runs.list(req);
  }

  @RpcHandler(Rpc.runCancel)
  cancel(@Payload() req: RpcRequest<typeof Rpc.runCancel>): Promise<RpcReply<typeof Rpc.runCancel>> {
    return this.runs.cancel(req);
  }

  @RpcHandler(Rpc.runEventsList)
  listEvents(@Payload() req: RpcRequest<typeof Rpc.runEventsList>): Promise<RpcReply<typeof Rpc.runEventsList>> {
    return this.runs.listEvents(req);
  }
}

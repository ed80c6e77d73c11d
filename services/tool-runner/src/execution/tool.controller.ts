import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { isEntityId, Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { DevStateRepository } from '../preview/dev-server/dev-state.repository';
import { ToolExecutionService } from './tool-execution.service';

@Controller()
export class ToolController {
  constructor(
    private readonly tools: ToolExecutionService,
    private readonly previews: DevStateRepository,
  ) {}

  @RpcHandler(Rpc.toolCatalogList)
  catalog(): RpcReply<typeof Rpc.toolCatalogList> {
    return this.tools.catalog();
  }

  @RpcHandler(Rpc.toolCallExecute)
  execute(@Payload() req: RpcRequest<typeof Rpc.toolCallExecute>): Promise<RpcReply<typeof Rpc.toolCallExecute>> {
    // The agent working on an app keeps its dev-server preview from the idle stop.
    if (isEntityId(req.appId)) void this.previews.touch(req.appId).catch(() => undefined);
    return this.tools.execute(req);
  }
}

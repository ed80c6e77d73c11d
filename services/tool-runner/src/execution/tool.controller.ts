import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ToolExecutionService } from './tool-execution.service';

@Controller()
export class ToolController {
  constructor(private readonly tools: ToolExecutionService) {}

  @RpcHandler(Rpc.toolCatalogList)
  catalog(): RpcReply<typeof Rpc.toolCatalogList> {
    return this.tools.catalog();
  }

  @RpcHandler(Rpc.toolCallExecute)
  execute(@Payload() req: RpcRequest<typeof Rpc.toolCallExecute>): Promise<RpcReply<typeof Rpc.toolCallExecute>> {
    return this.tools.execute(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { PreviewKeepAliveService } from '../preview/dev-server/preview-keep-alive.service';
import { ToolExecutionService } from './tool-execution.service';

@Controller()
export class ToolController {
  constructor(
    private readonly tools: ToolExecutionService,
    private readonly previews: PreviewKeepAliveService,
  ) {}

  @RpcHandler(Rpc.toolCatalogList)
  catalog(): RpcReply<typeof Rpc.toolCatalogList> {
    return this.tools.catalog();
  }

  @RpcHandler(Rpc.toolCallExecute)
  execute(@Payload() req: RpcRequest<typeof Rpc.toolCallExecute>): Promise<RpcReply<typeof Rpc.toolCallExecute>> {
    this.previews.touch(req.appId);
    return this.tools.execute(req);
  }
}

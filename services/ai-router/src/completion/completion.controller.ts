import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { CompletionService } from './completion.service';

@Controller()
export class CompletionController {
  constructor(private readonly completions: CompletionService) {}

  @RpcHandler(Rpc.aiCompletionCreate)
  create(@Payload() req: RpcRequest<typeof Rpc.aiCompletionCreate>): Promise<RpcReply<typeof Rpc.aiCompletionCreate>> {
    return this.completions.create(req);
  }

  @RpcHandler(Rpc.aiCompletionStream)
  stream(@Payload() req: RpcRequest<typeof Rpc.aiCompletionStream>): Promise<RpcReply<typeof Rpc.aiCompletionStream>> {
    return this.completions.stream(req);
  }
}

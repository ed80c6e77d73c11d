import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ModelTestService } from './model-test.service';

@Controller()
export class ModelTestController {
  constructor(private readonly models: ModelTestService) {}

  @RpcHandler(Rpc.aiModelTest)
  test(@Payload() req: RpcRequest<typeof Rpc.aiModelTest>): Promise<RpcReply<typeof Rpc.aiModelTest>> {
    return this.models.test(req);
  }
}

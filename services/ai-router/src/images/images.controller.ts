import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ImagesService } from './images.service';

@Controller()
export class ImagesController {
  constructor(private readonly images: ImagesService) {}

  @RpcHandler(Rpc.aiImageGenerate)
  generate(@Payload() req: RpcRequest<typeof Rpc.aiImageGenerate>): Promise<RpcReply<typeof Rpc.aiImageGenerate>> {
    return this.images.generate(req);
  }

  @RpcHandler(Rpc.aiImageEdit)
  edit(@Payload() req: RpcRequest<typeof Rpc.aiImageEdit>): Promise<RpcReply<typeof Rpc.aiImageEdit>> {
    return this.images.edit(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ApiKeysService } from './api-keys.service';

// NATS only: the operator CLI mints keys (the bootstrap key included); there is no default key.
@Controller()
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @RpcHandler(Rpc.apiKeyCreate)
  create(@Payload() req: RpcRequest<typeof Rpc.apiKeyCreate>): Promise<RpcReply<typeof Rpc.apiKeyCreate>> {
    return this.keys.create(req);
  }
}

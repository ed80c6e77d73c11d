import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { CacheService } from './cache.service';

// The operator CLI's `cache stats` and `cache cleanup` (the CLI's bus role only).
@Controller()
export class CacheController {
  constructor(private readonly cache: CacheService) {}

  @RpcHandler(Rpc.cacheStats)
  stats(@Payload() req: RpcRequest<typeof Rpc.cacheStats>): Promise<RpcReply<typeof Rpc.cacheStats>> {
    return this.cache.stats(req);
  }

  @RpcHandler(Rpc.cacheCleanup)
  cleanup(@Payload() req: RpcRequest<typeof Rpc.cacheCleanup>): Promise<RpcReply<typeof Rpc.cacheCleanup>> {
    return this.cache.cleanup(req);
  }
}

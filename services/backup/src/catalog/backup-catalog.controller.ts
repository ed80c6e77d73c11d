import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { BackupCatalogService } from './backup-catalog.service';

@Controller()
export class BackupCatalogController {
  constructor(private readonly catalog: BackupCatalogService) {}

  @RpcHandler(Rpc.backupCatalogList)
  list(@Payload() req: RpcRequest<typeof Rpc.backupCatalogList>): Promise<RpcReply<typeof Rpc.backupCatalogList>> {
    return this.catalog.list(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ProgressPublisher } from '../progress/progress.publisher';
import { DatabaseMaintenanceService } from './database-maintenance.service';

@Controller()
export class DatabaseMaintenanceController {
  constructor(
    private readonly maintenance: DatabaseMaintenanceService,
    private readonly progress: ProgressPublisher,
  ) {}

  @RpcHandler(Rpc.databaseMaintain)
  maintain(@Payload() req: RpcRequest<typeof Rpc.databaseMaintain>): Promise<RpcReply<typeof Rpc.databaseMaintain>> {
    return this.progress.during(req.progressSubject, (progress) => this.maintenance.maintain(req.operation, progress));
  }
}

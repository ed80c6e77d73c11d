import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ProgressPublisher } from '../progress/progress.publisher';
import { SecurityAuditService } from './security-audit.service';

@Controller()
export class SecurityAuditController {
  constructor(
    private readonly audits: SecurityAuditService,
    private readonly progress: ProgressPublisher,
  ) {}

  @RpcHandler(Rpc.securityAudit)
  audit(@Payload() req: RpcRequest<typeof Rpc.securityAudit>): Promise<RpcReply<typeof Rpc.securityAudit>> {
    return this.progress.during(req.progressSubject, (progress) => this.audits.audit({ trigger: 'manual', acceptBaseline: req.acceptBaseline, progress }));
  }
}

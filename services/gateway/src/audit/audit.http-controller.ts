import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { AuditService } from './audit.service';

@Controller()
@UseGuards(ApiKeyGuard)
export class AuditHttpController {
  constructor(private readonly audit: AuditService) {}

  @ApiRoute(ROUTES.listAudit)
  listAudit(@Req() req: AuthenticatedRequest) {
    const { query } = parseRequest(ROUTES.listAudit, req);
    return this.audit.query(req.principal.teamId, query);
  }
}

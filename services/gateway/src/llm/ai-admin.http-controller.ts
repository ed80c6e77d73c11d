import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { AiAdminService } from './ai-admin.service';
import { AiUsageService } from './ai-usage.service';

// Operator views of the model router (owner and admin keys; the switch: operator teams only).
@Controller()
@UseGuards(ApiKeyGuard)
export class AiAdminHttpController {
  constructor(
    private readonly admin: AiAdminService,
    private readonly usageByDay: AiUsageService,
  ) {}

  @ApiRoute(ROUTES.aiStatus)
  status(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.aiStatus, req);
    return this.admin.status();
  }

  @ApiRoute(ROUTES.aiCache)
  cache(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.aiCache, req);
    return this.admin.cache();
  }

  @ApiRoute(ROUTES.aiUsage)
  usage(@Req() req: AuthenticatedRequest) {
    const { day } = parseRequest(ROUTES.aiUsage, req).query;
    return this.admin.usage(req.principal.teamId, day ?? '');
  }

  @ApiRoute(ROUTES.aiUsageDaily)
  usageDaily(@Req() req: AuthenticatedRequest) {
    return this.usageByDay.daily(req.principal.teamId, parseRequest(ROUTES.aiUsageDaily, req).query);
  }

  @ApiRoute(ROUTES.aiSwitchModel)
  switchModel(@Req() req: AuthenticatedRequest) {
    return this.admin.switchModel(parseRequest(ROUTES.aiSwitchModel, req).body.alias);
  }
}

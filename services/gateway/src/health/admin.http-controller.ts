import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { PlatformHealthService } from './platform-health.service';
import { ToolStatsService } from './tool-stats.service';

// The operator's view over the API (owners and admins). The AI routes under /api/admin/ai are
// served from src/llm.
@Controller()
@UseGuards(ApiKeyGuard)
export class AdminHttpController {
  constructor(
    private readonly health: PlatformHealthService,
    private readonly stats: ToolStatsService,
  ) {}

  @ApiRoute(ROUTES.adminStatus)
  status(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.adminStatus, req);
    return this.health.detailed();
  }

  @ApiRoute(ROUTES.toolStats)
  toolStats(@Req() req: AuthenticatedRequest) {
    return this.stats.lastDays(req.principal.teamId, parseRequest(ROUTES.toolStats, req).query.days);
  }
}

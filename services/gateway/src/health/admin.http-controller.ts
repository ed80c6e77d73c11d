import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiRoute, notImplemented, parseRequest, ROUTES } from '../api/routes';
import { ApiKeyGuard, type AuthenticatedRequest } from '../keys/api-key.guard';
import { PlatformHealthService } from './platform-health.service';

// The operator's view over the API (owners and admins). The AI routes under /api/admin/ai are
// served by the ai-router issue's module (src/llm).
@Controller()
@UseGuards(ApiKeyGuard)
export class AdminHttpController {
  constructor(private readonly health: PlatformHealthService) {}

  @ApiRoute(ROUTES.adminStatus)
  status(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.adminStatus, req);
    return this.health.detailed();
  }

  @ApiRoute(ROUTES.toolStats)
  toolStats(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.toolStats, req);
    notImplemented(ROUTES.toolStats);
  }
}

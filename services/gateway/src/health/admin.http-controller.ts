import { Controller, Req, UseGuards } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { PlatformHealthService } from './platform-health.service';

// The operator's view over the API (owners and admins). The AI routes under /api/admin/ai are
// served from src/llm.
@Controller()
@UseGuards(ApiKeyGuard)
export class AdminHttpController {
  constructor(
    private readonly health: PlatformHealthService,
    private readonly rpc: NatsRpcClient,
  ) {}

  @ApiRoute(ROUTES.adminStatus)
  status(@Req() req: AuthenticatedRequest) {
    parseRequest(ROUTES.adminStatus, req);
    return this.health.detailed();
  }

  @ApiRoute(ROUTES.toolStats)
  async toolStats(@Req() req: AuthenticatedRequest) {
    const { query } = parseRequest(ROUTES.toolStats, req);
    const since = new Date(Date.now() - query.days * 86_400_000).toISOString();
    const stats = await this.rpc.send(Rpc.analyticsToolStatsRead, { teamId: req.principal.teamId, since });
    return {
      since,
      tools: stats.rows.map((r) => ({
        tool: r.tool,
        outcome: r.outcome,
        count: Number(r.count),
        avgMs: Math.round(r.avgMs * 10) / 10,
        p95Ms: Math.round(r.p95Ms * 10) / 10,
      })),
    };
  }
}

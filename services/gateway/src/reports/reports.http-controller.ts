import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { ReportsApiService } from './reports-api.service';

// Business analytics and the monthly reports (owners and admins; operators see every team).
@Controller()
@UseGuards(ApiKeyGuard)
export class ReportsHttpController {
  constructor(private readonly reports: ReportsApiService) {}

  @ApiRoute(ROUTES.reportBusiness)
  business(@Req() req: AuthenticatedRequest) {
    return this.reports.business(req.principal, parseRequest(ROUTES.reportBusiness, req).query);
  }

  @ApiRoute(ROUTES.reportMetrics)
  metrics(@Req() req: AuthenticatedRequest) {
    return this.reports.metrics(req.principal, parseRequest(ROUTES.reportMetrics, req).query);
  }

  @ApiRoute(ROUTES.reportPerformance)
  performance(@Req() req: AuthenticatedRequest) {
    return this.reports.performance(req.principal, parseRequest(ROUTES.reportPerformance, req).query);
  }
}

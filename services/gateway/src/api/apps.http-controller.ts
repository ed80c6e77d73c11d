import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { PlatformApiService } from './platform-api.service';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class AppsHttpController {
  constructor(private readonly api: PlatformApiService) {}

  @ApiRoute(R.listApps)
  listApps(@Req() req: AuthenticatedRequest) {
    return this.api.listApps(req.principal, parseRequest(R.listApps, req).query);
  }

  @ApiRoute(R.createApp)
  createApp(@Req() req: AuthenticatedRequest) {
    return this.api.createApp(req.principal, parseRequest(R.createApp, req).body);
  }

  @ApiRoute(R.getApp)
  getApp(@Req() req: AuthenticatedRequest) {
    return this.api.getApp(req.principal, parseRequest(R.getApp, req).params.appId);
  }

  @ApiRoute(R.updateApp)
  updateApp(@Req() req: AuthenticatedRequest) {
    const { params, body } = parseRequest(R.updateApp, req);
    return this.api.updateApp(req.principal, params.appId, body);
  }

  @ApiRoute(R.deleteApp)
  deleteApp(@Req() req: AuthenticatedRequest) {
    return this.api.deleteApp(req.principal, parseRequest(R.deleteApp, req).params.appId);
  }

  @ApiRoute(R.postMessage)
  postMessage(@Req() req: AuthenticatedRequest) {
    const { params, body, headers } = parseRequest(R.postMessage, req);
    return this.api.postMessage(req.principal, params.appId, body.content, headers['idempotency-key']);
  }

  @ApiRoute(R.listMessages)
  listMessages(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.listMessages, req);
    return this.api.listMessages(req.principal, params.appId, query);
  }
}

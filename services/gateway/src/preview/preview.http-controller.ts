import { Controller, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { PreviewApiService } from './preview-api.service';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class PreviewHttpController {
  constructor(private readonly preview: PreviewApiService) {}

  @ApiRoute(R.getPreview)
  get(@Req() req: AuthenticatedRequest) {
    return this.preview.get(req.principal, parseRequest(R.getPreview, req).params.appId);
  }

  @ApiRoute(R.restartPreview)
  restart(@Req() req: AuthenticatedRequest) {
    return this.preview.restart(req.principal, parseRequest(R.restartPreview, req).params.appId);
  }

  @ApiRoute(R.rotatePreview)
  rotate(@Req() req: AuthenticatedRequest) {
    return this.preview.rotate(req.principal, parseRequest(R.rotatePreview, req).params.appId);
  }

  @ApiRoute(R.previewLogs)
  logs(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.previewLogs, req);
    return this.preview.logs(req.principal, params.appId, query);
  }

  @ApiRoute(R.versionScreenshot)
  async screenshot(@Req() req: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { params } = parseRequest(R.versionScreenshot, req);
    const png = await this.preview.screenshot(req.principal, params.appId, params.sha);
    void reply.type('image/png').header('cache-control', 'private, max-age=3600');
    return png;
  }
}

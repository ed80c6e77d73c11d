import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, type AuthenticatedRequest } from '../keys/api-key.guard';
import { ApiRoute, notImplemented, parseRequest, ROUTES } from './routes';
import { PlatformApiService } from './platform-api.service';
import { WorkspaceApiService } from './workspace-api.service';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class WorkspaceHttpController {
  constructor(
    private readonly workspace: WorkspaceApiService,
    private readonly api: PlatformApiService,
  ) {}

  @ApiRoute(R.fileTree)
  async fileTree(@Req() req: AuthenticatedRequest) {
    // Tenant check first: another team's app is 404 here too, not 501.
    await this.api.getApp(req.principal, parseRequest(R.fileTree, req).params.appId);
    notImplemented(R.fileTree);
  }

  @ApiRoute(R.readFile)
  readFile(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.readFile, req);
    return this.workspace.readFile(req.principal, params.appId, query);
  }

  @ApiRoute(R.listVersions)
  listVersions(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.listVersions, req);
    return this.workspace.listVersions(req.principal, params.appId, query);
  }

  @ApiRoute(R.diffVersion)
  diffVersion(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.diffVersion, req);
    return this.workspace.diffVersion(req.principal, params.appId, params.sha, query);
  }

  @ApiRoute(R.restoreVersion)
  restoreVersion(@Req() req: AuthenticatedRequest) {
    const { params, body } = parseRequest(R.restoreVersion, req);
    return this.workspace.restoreVersion(req.principal, params.appId, params.sha, body);
  }
}

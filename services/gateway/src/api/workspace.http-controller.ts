import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { WorkspaceApiService } from './workspace-api.service';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class WorkspaceHttpController {
  constructor(private readonly workspace: WorkspaceApiService) {}

  @ApiRoute(R.fileTree)
  fileTree(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.fileTree, req);
    return this.workspace.fileTree(req.principal, params.appId, query);
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

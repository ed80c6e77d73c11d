import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { ProjectsApiService } from './projects-api.service';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class ProjectsHttpController {
  constructor(private readonly api: ProjectsApiService) {}

  @ApiRoute(R.listProjects)
  listProjects(@Req() req: AuthenticatedRequest) {
    return this.api.listProjects(req.principal, parseRequest(R.listProjects, req).query);
  }

  @ApiRoute(R.createProject)
  createProject(@Req() req: AuthenticatedRequest) {
    return this.api.createProject(req.principal, parseRequest(R.createProject, req).body);
  }

  @ApiRoute(R.getProject)
  getProject(@Req() req: AuthenticatedRequest) {
    return this.api.getProject(req.principal, parseRequest(R.getProject, req).params.projectId);
  }

  @ApiRoute(R.updateProject)
  updateProject(@Req() req: AuthenticatedRequest) {
    const { params, body } = parseRequest(R.updateProject, req);
    return this.api.updateProject(req.principal, params.projectId, body);
  }

  @ApiRoute(R.deleteProject)
  deleteProject(@Req() req: AuthenticatedRequest) {
    return this.api.deleteProject(req.principal, parseRequest(R.deleteProject, req).params.projectId);
  }
}

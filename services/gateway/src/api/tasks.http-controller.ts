import { Controller, Req, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { ProjectsApiService } from './projects-api.service';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class TasksHttpController {
  constructor(private readonly api: ProjectsApiService) {}

  @ApiRoute(R.listProjectTasks)
  listProjectTasks(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.listProjectTasks, req);
    return this.api.listTasks(req.principal, params.projectId, query);
  }

  @ApiRoute(R.runningTasks)
  runningTasks(@Req() req: AuthenticatedRequest) {
    return this.api.runningTasks(req.principal);
  }

  @ApiRoute(R.getTask)
  getTask(@Req() req: AuthenticatedRequest) {
    return this.api.getTask(req.principal, parseRequest(R.getTask, req).params.taskId);
  }

  @ApiRoute(R.cancelTask)
  cancelTask(@Req() req: AuthenticatedRequest) {
    return this.api.cancelTask(req.principal, parseRequest(R.cancelTask, req).params.taskId);
  }

  @ApiRoute(R.retryTask)
  retryTask(@Req() req: AuthenticatedRequest) {
    return this.api.retryTask(req.principal, parseRequest(R.retryTask, req).params.taskId);
  }
}

import { Controller, UsePipes } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { ProjectsService } from './projects.service';
import { TeamIdPipe } from '../common/team-id.pipe';

@Controller()
@UsePipes(TeamIdPipe)
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @RpcHandler(Rpc.projectCreate)
  create(@Payload() req: RpcRequest<typeof Rpc.projectCreate>): Promise<RpcReply<typeof Rpc.projectCreate>> {
    return this.projects.create(req);
  }

  @RpcHandler(Rpc.projectGet)
  get(@Payload() req: RpcRequest<typeof Rpc.projectGet>): Promise<RpcReply<typeof Rpc.projectGet>> {
    return this.projects.get(req);
  }

  @RpcHandler(Rpc.projectList)
  list(@Payload() req: RpcRequest<typeof Rpc.projectList>): Promise<RpcReply<typeof Rpc.projectList>> {
    return this.projects.list(req);
  }

  @RpcHandler(Rpc.projectUpdate)
  update(@Payload() req: RpcRequest<typeof Rpc.projectUpdate>): Promise<RpcReply<typeof Rpc.projectUpdate>> {
    return this.projects.update(req);
  }

  @RpcHandler(Rpc.githubRateLimit)
  rateLimit(@Payload() req: RpcRequest<typeof Rpc.githubRateLimit>): Promise<RpcReply<typeof Rpc.githubRateLimit>> {
    return this.projects.rateLimit(req);
  }

  @RpcHandler(Rpc.projectDelete)
  delete(@Payload() req: RpcRequest<typeof Rpc.projectDelete>): Promise<RpcReply<typeof Rpc.projectDelete>> {
    return this.projects.delete(req);
  }
}

import { Controller, UsePipes } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { GitHubDeliveriesService } from './github-deliveries.service';
import { TasksService } from './tasks.service';
import { TeamIdPipe } from '../common/team-id.pipe';

@Controller()
@UsePipes(TeamIdPipe)
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly deliveries: GitHubDeliveriesService,
  ) {}

  @RpcHandler(Rpc.githubDeliveryIngest)
  ingest(@Payload() req: RpcRequest<typeof Rpc.githubDeliveryIngest>): Promise<RpcReply<typeof Rpc.githubDeliveryIngest>> {
    return this.deliveries.ingest(req);
  }

  @RpcHandler(Rpc.taskList)
  list(@Payload() req: RpcRequest<typeof Rpc.taskList>): Promise<RpcReply<typeof Rpc.taskList>> {
    return this.tasks.list(req);
  }

  @RpcHandler(Rpc.taskGet)
  get(@Payload() req: RpcRequest<typeof Rpc.taskGet>): Promise<RpcReply<typeof Rpc.taskGet>> {
    return this.tasks.get(req);
  }

  @RpcHandler(Rpc.taskRunning)
  running(@Payload() req: RpcRequest<typeof Rpc.taskRunning>): Promise<RpcReply<typeof Rpc.taskRunning>> {
    return this.tasks.running(req);
  }

  @RpcHandler(Rpc.taskCancel)
  cancel(@Payload() req: RpcRequest<typeof Rpc.taskCancel>): Promise<RpcReply<typeof Rpc.taskCancel>> {
    return this.tasks.cancel(req);
  }

  @RpcHandler(Rpc.taskRetry)
  retry(@Payload() req: RpcRequest<typeof Rpc.taskRetry>): Promise<RpcReply<typeof Rpc.taskRetry>> {
    return this.tasks.retry(req);
  }
}

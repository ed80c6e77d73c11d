import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// A GitHub check on create or on new credentials can take a few seconds.
const CHECK_TIMEOUT_MS = 30_000;

// GitHub projects and their tasks: the orchestrator's, over NATS, scoped to the caller's team.
@Injectable()
export class ProjectsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  list(req: RpcRequestInit<typeof Rpc.projectList>): Promise<RpcResponse<typeof Rpc.projectList>> {
    return this.rpc.send(Rpc.projectList, req);
  }

  create(req: RpcRequestInit<typeof Rpc.projectCreate>): Promise<RpcResponse<typeof Rpc.projectCreate>> {
    return this.rpc.send(Rpc.projectCreate, req, { timeoutMs: CHECK_TIMEOUT_MS });
  }

  get(req: RpcRequestInit<typeof Rpc.projectGet>): Promise<RpcResponse<typeof Rpc.projectGet>> {
    return this.rpc.send(Rpc.projectGet, req);
  }

  update(req: RpcRequestInit<typeof Rpc.projectUpdate>): Promise<RpcResponse<typeof Rpc.projectUpdate>> {
    return this.rpc.send(Rpc.projectUpdate, req, { timeoutMs: CHECK_TIMEOUT_MS });
  }

  delete(req: RpcRequestInit<typeof Rpc.projectDelete>): Promise<RpcResponse<typeof Rpc.projectDelete>> {
    return this.rpc.send(Rpc.projectDelete, req);
  }

  listTasks(req: RpcRequestInit<typeof Rpc.taskList>): Promise<RpcResponse<typeof Rpc.taskList>> {
    return this.rpc.send(Rpc.taskList, req);
  }

  getTask(req: RpcRequestInit<typeof Rpc.taskGet>): Promise<RpcResponse<typeof Rpc.taskGet>> {
    return this.rpc.send(Rpc.taskGet, req);
  }

  cancelTask(req: RpcRequestInit<typeof Rpc.taskCancel>): Promise<RpcResponse<typeof Rpc.taskCancel>> {
    return this.rpc.send(Rpc.taskCancel, req);
  }

  retryTask(req: RpcRequestInit<typeof Rpc.taskRetry>): Promise<RpcResponse<typeof Rpc.taskRetry>> {
    return this.rpc.send(Rpc.taskRetry, req);
  }

  runningTasks(req: RpcRequestInit<typeof Rpc.taskRunning>): Promise<RpcResponse<typeof Rpc.taskRunning>> {
    return this.rpc.send(Rpc.taskRunning, req);
  }
}

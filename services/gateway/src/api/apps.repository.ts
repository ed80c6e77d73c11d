import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// Creating an app makes its repository, deleting one removes it: both wait on git.
const WORKSPACE_TIMEOUT_MS = 30_000;

// Apps, their messages and runs: the orchestrator's, over NATS. Every request names the caller's
// team, and the orchestrator answers another team's id exactly as a missing one.
@Injectable()
export class AppsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  create(req: RpcRequestInit<typeof Rpc.appCreate>): Promise<RpcResponse<typeof Rpc.appCreate>> {
    return this.rpc.send(Rpc.appCreate, req, { timeoutMs: WORKSPACE_TIMEOUT_MS });
  }

  list(req: RpcRequestInit<typeof Rpc.appList>): Promise<RpcResponse<typeof Rpc.appList>> {
    return this.rpc.send(Rpc.appList, req);
  }

  get(req: RpcRequestInit<typeof Rpc.appGet>): Promise<RpcResponse<typeof Rpc.appGet>> {
    return this.rpc.send(Rpc.appGet, req);
  }

  update(req: RpcRequestInit<typeof Rpc.appUpdate>): Promise<RpcResponse<typeof Rpc.appUpdate>> {
    return this.rpc.send(Rpc.appUpdate, req);
  }

  delete(req: RpcRequestInit<typeof Rpc.appDelete>): Promise<RpcResponse<typeof Rpc.appDelete>> {
    return this.rpc.send(Rpc.appDelete, req, { timeoutMs: WORKSPACE_TIMEOUT_MS });
  }

  postMessage(req: RpcRequestInit<typeof Rpc.messagePost>): Promise<RpcResponse<typeof Rpc.messagePost>> {
    return this.rpc.send(Rpc.messagePost, req);
  }

  listMessages(req: RpcRequestInit<typeof Rpc.messageList>): Promise<RpcResponse<typeof Rpc.messageList>> {
    return this.rpc.send(Rpc.messageList, req);
  }

  listRuns(req: RpcRequestInit<typeof Rpc.runList>): Promise<RpcResponse<typeof Rpc.runList>> {
    return this.rpc.send(Rpc.runList, req);
  }

  getRun(req: RpcRequestInit<typeof Rpc.runGet>): Promise<RpcResponse<typeof Rpc.runGet>> {
    return this.rpc.send(Rpc.runGet, req);
  }

  cancelRun(req: RpcRequestInit<typeof Rpc.runCancel>): Promise<RpcResponse<typeof Rpc.runCancel>> {
    return this.rpc.send(Rpc.runCancel, req);
  }
}

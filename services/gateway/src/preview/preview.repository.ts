import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// An app's preview: tool-runner serves it, analytics keeps what its browsers saw (over NATS).
// Both know apps only by id; the caller checks the app is its team's first.
@Injectable()
export class PreviewRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  get(req: RpcRequestInit<typeof Rpc.previewGet>): Promise<RpcResponse<typeof Rpc.previewGet>> {
    return this.rpc.send(Rpc.previewGet, req);
  }

  restart(req: RpcRequestInit<typeof Rpc.previewRestart>): Promise<RpcResponse<typeof Rpc.previewRestart>> {
    return this.rpc.send(Rpc.previewRestart, req);
  }

  rotate(req: RpcRequestInit<typeof Rpc.previewRotate>): Promise<RpcResponse<typeof Rpc.previewRotate>> {
    return this.rpc.send(Rpc.previewRotate, req);
  }

  screenshot(req: RpcRequestInit<typeof Rpc.previewScreenshot>): Promise<RpcResponse<typeof Rpc.previewScreenshot>> {
    return this.rpc.send(Rpc.previewScreenshot, req);
  }

  consoleLogs(req: RpcRequestInit<typeof Rpc.analyticsConsoleRead>): Promise<RpcResponse<typeof Rpc.analyticsConsoleRead>> {
    return this.rpc.send(Rpc.analyticsConsoleRead, req);
  }

  requests(req: RpcRequestInit<typeof Rpc.analyticsNetworkRead>): Promise<RpcResponse<typeof Rpc.analyticsNetworkRead>> {
    return this.rpc.send(Rpc.analyticsNetworkRead, req);
  }
}

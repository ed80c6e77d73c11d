import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// Business and performance figures: analytics', over NATS.
@Injectable()
export class ReportsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  business(req: RpcRequestInit<typeof Rpc.analyticsBusinessRead>): Promise<RpcResponse<typeof Rpc.analyticsBusinessRead>> {
    return this.rpc.send(Rpc.analyticsBusinessRead, req);
  }

  performance(req: RpcRequestInit<typeof Rpc.analyticsPerformanceRead>): Promise<RpcResponse<typeof Rpc.analyticsPerformanceRead>> {
    return this.rpc.send(Rpc.analyticsPerformanceRead, req);
  }
}

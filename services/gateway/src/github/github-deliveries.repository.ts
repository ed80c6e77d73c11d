import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// Well inside GitHub's 10 s for a webhook's answer.
const INGEST_TIMEOUT_MS = 5000;

// A webhook delivery handed to the orchestrator, which records it and queues it on JetStream.
@Injectable()
export class GitHubDeliveriesRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  ingest(req: RpcRequestInit<typeof Rpc.githubDeliveryIngest>): Promise<RpcResponse<typeof Rpc.githubDeliveryIngest>> {
    return this.rpc.send(Rpc.githubDeliveryIngest, req, { timeoutMs: INGEST_TIMEOUT_MS });
  }
}

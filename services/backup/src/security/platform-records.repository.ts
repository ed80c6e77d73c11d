import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';

// What the audit asks other services about: the gateway owns API keys, analytics the stored facts.
@Injectable()
export class PlatformRecordsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  async apiKeys() {
    return (await this.rpc.send(Rpc.apiKeyAudit, {}, { timeoutMs: 30_000 })).keys;
  }

  eventSecrets() {
    return this.rpc.send(Rpc.analyticsEventSecretScan, { limit: 1000 }, { timeoutMs: 60_000 });
  }
}

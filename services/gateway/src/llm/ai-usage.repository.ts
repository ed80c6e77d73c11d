import { Injectable } from '@nestjs/common';
import { Rpc, type analyticsV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';

// The team's AI usage per day and app, summed by analytics (over NATS) from ai-router's usage facts.
@Injectable()
export class AiUsageRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  daily(teamId: string, from: string, to: string): Promise<analyticsV1.AiUsageDailyReadResponse> {
    return this.rpc.send(Rpc.analyticsAiUsageDaily, { teamId, from, to });
  }
}

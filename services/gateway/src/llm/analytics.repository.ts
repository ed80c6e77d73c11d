import { Injectable } from '@nestjs/common';
import { Rpc, type analyticsV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';

// Analytics over NATS: the team's AI usage, summed from ai-router's usage facts.
@Injectable()
export class AnalyticsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  aiUsageDaily(teamId: string, from: string, to: string): Promise<analyticsV1.AiUsageDailyReadResponse> {
    return this.rpc.send(Rpc.analyticsAiUsageDaily, { teamId, from, to });
  }
}

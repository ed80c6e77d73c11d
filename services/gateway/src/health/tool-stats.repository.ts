import { Injectable } from '@nestjs/common';
import { Rpc, type analyticsV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';

// Tool executions per tool and outcome, summed by analytics (over NATS) from tool-runner's facts.
@Injectable()
export class ToolStatsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  since(teamId: string, since: string): Promise<analyticsV1.ToolStatsReadResponse> {
    return this.rpc.send(Rpc.analyticsToolStatsRead, { teamId, since });
  }
}

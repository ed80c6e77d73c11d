import { Inject, Injectable } from '@nestjs/common';
import { analyticsV1, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { delegateCall } from './delegate-call';

export interface AnalyticsCaller {
  teamId: string;
  appId: string;
}

// The app preview's telemetry lives in analytics.
@Injectable()
export class AnalyticsRepository {
  constructor(
    private readonly client: NatsRpcClient,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'TOOL_DELEGATE_TIMEOUT_MS'>,
  ) {}

  consoleLogs(caller: AnalyticsCaller, query: { minLevel?: string; since?: string; limit: number }): Promise<analyticsV1.ConsoleLogsReadResponse> {
    return delegateCall(
      this.client,
      Rpc.analyticsConsoleRead,
      { teamId: caller.teamId, appId: caller.appId, minLevel: query.minLevel ?? '', since: query.since ?? '', limit: query.limit },
      { timeoutMs: this.env.TOOL_DELEGATE_TIMEOUT_MS, tenantId: caller.teamId },
    );
  }

  networkRequests(caller: AnalyticsCaller, query: { failedOnly: boolean; since?: string; limit: number }): Promise<analyticsV1.NetworkRequestsReadResponse> {
    return delegateCall(
      this.client,
      Rpc.analyticsNetworkRead,
      { teamId: caller.teamId, appId: caller.appId, failedOnly: query.failedOnly, since: query.since ?? '', limit: query.limit },
      { timeoutMs: this.env.TOOL_DELEGATE_TIMEOUT_MS, tenantId: caller.teamId },
    );
  }

  report(caller: AnalyticsCaller, days: number): Promise<analyticsV1.AnalyticsReportReadResponse> {
    return delegateCall(
      this.client,
      Rpc.analyticsReportRead,
      { teamId: caller.teamId, appId: caller.appId, days },
      { timeoutMs: this.env.TOOL_DELEGATE_TIMEOUT_MS, tenantId: caller.teamId },
    );
  }
}

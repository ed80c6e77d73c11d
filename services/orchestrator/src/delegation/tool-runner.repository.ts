import { Inject, Injectable } from '@nestjs/common';
import { Rpc, type toolV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';

export interface ToolCall {
  teamId: string;
  appId: string;
  runId: string;
  toolUseId: string;
  name: string;
  inputJson: string;
}

// Tools run in tool-runner, inside the app's workspace.
@Injectable()
export class ToolRunnerRepository {
  constructor(
    private readonly client: NatsRpcClient,
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'RUN_TOOL_TIMEOUT_MS'>,
  ) {}

  catalog(teamId: string): Promise<toolV1.CatalogListResponse> {
    return this.client.send(Rpc.toolCatalogList, {}, { tenantId: teamId });
  }

  execute(call: ToolCall): Promise<toolV1.ToolCallResponse> {
    return this.client.send(Rpc.toolCallExecute, call, { timeoutMs: this.env.RUN_TOOL_TIMEOUT_MS, tenantId: call.teamId });
  }
}

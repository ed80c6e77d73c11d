import { Inject, Injectable } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { aiV1, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';

export type CompletionRequest = MessageInitShape<typeof aiV1.CompletionRequestSchema>;

// The model is ai-router's: keys, fallbacks, budgets and usage accounting stay there.
@Injectable()
export class AiRouterRepository {
  constructor(
    private readonly client: NatsRpcClient,
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'RUN_MODEL_TIMEOUT_MS'>,
  ) {}

  complete(request: CompletionRequest & { teamId: string }): Promise<aiV1.CompletionResponse> {
    return this.client.send(Rpc.aiCompletionCreate, request, { timeoutMs: this.env.RUN_MODEL_TIMEOUT_MS, tenantId: request.teamId });
  }
}

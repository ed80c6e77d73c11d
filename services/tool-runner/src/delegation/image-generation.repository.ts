import { Inject, Injectable } from '@nestjs/common';
import { aiV1, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { delegateCall } from './delegate-call';

export interface ImageCaller {
  teamId: string;
  appId: string;
  runId: string;
}

// Image models are ai-router's: provider keys, budgets and usage accounting stay there.
@Injectable()
export class ImageGenerationRepository {
  constructor(
    private readonly client: NatsRpcClient,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'TOOL_IMAGE_TIMEOUT_MS'>,
  ) {}

  generate(caller: ImageCaller, request: { prompt: string; width: number; height: number; mimeType: string }): Promise<aiV1.ImageGenerateResponse> {
    return delegateCall(this.client, Rpc.aiImageGenerate, { ...caller, ...request }, { timeoutMs: this.env.TOOL_IMAGE_TIMEOUT_MS, tenantId: caller.teamId });
  }

  edit(caller: ImageCaller, request: { prompt: string; image: Uint8Array; mimeType: string; width: number; height: number }): Promise<aiV1.ImageEditResponse> {
    return delegateCall(this.client, Rpc.aiImageEdit, { ...caller, ...request }, { timeoutMs: this.env.TOOL_IMAGE_TIMEOUT_MS, tenantId: caller.teamId });
  }
}

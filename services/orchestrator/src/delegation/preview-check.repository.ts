import { Inject, Injectable } from '@nestjs/common';
import { Rpc, type toolV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';

export interface PreviewCheckTarget {
  teamId: string;
  appId: string;
  runId: string;
  sha: string;
}

// tool-runner opens the version in headless Chromium.
@Injectable()
export class PreviewCheckRepository {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'PREVIEW_CHECK_TIMEOUT_MS'>,
  ) {}

  check(target: PreviewCheckTarget): Promise<toolV1.PreviewCheckResult> {
    return this.rpc.send(Rpc.previewCheck, target, { timeoutMs: this.env.PREVIEW_CHECK_TIMEOUT_MS, tenantId: target.teamId });
  }

  // The screenshot the check took of a version, written into the app's workspace at `path`.
  saveScreenshot(target: { teamId: string; appId: string; sha: string; path: string }): Promise<toolV1.PreviewScreenshotSaveResponse> {
    return this.rpc.send(Rpc.previewScreenshotSave, target, { tenantId: target.teamId });
  }
}

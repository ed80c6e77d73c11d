import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { assertAppId } from '../workspace/resolve-workspace-path';
import { PreviewCheckService } from './preview-check.service';
import { PreviewService } from './preview.service';

function owner(req: { teamId: string; appId: string }) {
  assertAppId(req.appId);
  return { teamId: req.teamId, appId: req.appId };
}

@Controller()
export class PreviewController {
  constructor(
    private readonly previews: PreviewService,
    private readonly checks: PreviewCheckService,
  ) {}

  @RpcHandler(Rpc.previewGet)
  get(@Payload() req: RpcRequest<typeof Rpc.previewGet>): Promise<RpcReply<typeof Rpc.previewGet>> {
    return this.previews.info(owner(req));
  }

  @RpcHandler(Rpc.previewRotate)
  rotate(@Payload() req: RpcRequest<typeof Rpc.previewRotate>): Promise<RpcReply<typeof Rpc.previewRotate>> {
    return this.previews.rotate(owner(req));
  }

  @RpcHandler(Rpc.previewRestart)
  restart(@Payload() req: RpcRequest<typeof Rpc.previewRestart>): Promise<RpcReply<typeof Rpc.previewRestart>> {
    return this.previews.restart(owner(req));
  }

  @RpcHandler(Rpc.previewCheck)
  check(@Payload() req: RpcRequest<typeof Rpc.previewCheck>): Promise<RpcReply<typeof Rpc.previewCheck>> {
    return this.checks.check(owner(req), req.sha);
  }

  @RpcHandler(Rpc.previewScreenshot)
  async screenshot(@Payload() req: RpcRequest<typeof Rpc.previewScreenshot>): Promise<RpcReply<typeof Rpc.previewScreenshot>> {
    return this.checks.screenshot(owner(req), req.sha);
  }

  @RpcHandler(Rpc.previewScreenshotSave)
  async saveScreenshot(@Payload() req: RpcRequest<typeof Rpc.previewScreenshotSave>): Promise<RpcReply<typeof Rpc.previewScreenshotSave>> {
    const saved = await this.checks.saveScreenshot(owner(req), req.sha, req.path);
    return saved;
  }
}

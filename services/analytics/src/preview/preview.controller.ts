import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { PreviewService } from './preview.service';

@Controller()
export class PreviewController {
  constructor(private readonly preview: PreviewService) {}

  @RpcHandler(Rpc.analyticsConsoleRead)
  consoleLogs(@Payload() req: RpcRequest<typeof Rpc.analyticsConsoleRead>): Promise<RpcReply<typeof Rpc.analyticsConsoleRead>> {
    return this.preview.consoleLogs(req);
  }

  @RpcHandler(Rpc.analyticsNetworkRead)
  networkRequests(@Payload() req: RpcRequest<typeof Rpc.analyticsNetworkRead>): Promise<RpcReply<typeof Rpc.analyticsNetworkRead>> {
    return this.preview.networkRequests(req);
  }

  @RpcHandler(Rpc.analyticsReportRead)
  report(@Payload() req: RpcRequest<typeof Rpc.analyticsReportRead>): Promise<RpcReply<typeof Rpc.analyticsReportRead>> {
    return this.preview.report(req);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { BookmarksService } from './bookmarks.service';

@Controller()
export class BookmarksController {
  constructor(private readonly bookmarks: BookmarksService) {}

  @RpcHandler(Rpc.gitBookmarkCreate)
  create(@Payload() req: RpcRequest<typeof Rpc.gitBookmarkCreate>): Promise<RpcReply<typeof Rpc.gitBookmarkCreate>> {
    return this.bookmarks.create(req);
  }

  @RpcHandler(Rpc.gitBookmarkList)
  list(@Payload() req: RpcRequest<typeof Rpc.gitBookmarkList>): Promise<RpcReply<typeof Rpc.gitBookmarkList>> {
    return this.bookmarks.list(req);
  }

  @RpcHandler(Rpc.gitBookmarkDelete)
  delete(@Payload() req: RpcRequest<typeof Rpc.gitBookmarkDelete>): Promise<RpcReply<typeof Rpc.gitBookmarkDelete>> {
    return this.bookmarks.delete(req);
  }
}

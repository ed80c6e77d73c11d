import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// A restore writes a commit (and may save pending changes as one first).
const RESTORE_TIMEOUT_MS = 30_000;

// An app's files and versions: git-service's, over NATS. git-service knows apps only by id; the
// caller checks the app is its team's first.
@Injectable()
export class WorkspaceRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  tree(req: RpcRequestInit<typeof Rpc.gitTreeList>): Promise<RpcResponse<typeof Rpc.gitTreeList>> {
    return this.rpc.send(Rpc.gitTreeList, req);
  }

  file(req: RpcRequestInit<typeof Rpc.gitFileShow>): Promise<RpcResponse<typeof Rpc.gitFileShow>> {
    return this.rpc.send(Rpc.gitFileShow, req);
  }

  log(req: RpcRequestInit<typeof Rpc.gitRepoLog>): Promise<RpcResponse<typeof Rpc.gitRepoLog>> {
    return this.rpc.send(Rpc.gitRepoLog, req);
  }

  diff(req: RpcRequestInit<typeof Rpc.gitRepoDiff>): Promise<RpcResponse<typeof Rpc.gitRepoDiff>> {
    return this.rpc.send(Rpc.gitRepoDiff, req);
  }

  restore(req: RpcRequestInit<typeof Rpc.gitRepoRestore>): Promise<RpcResponse<typeof Rpc.gitRepoRestore>> {
    return this.rpc.send(Rpc.gitRepoRestore, req, { timeoutMs: RESTORE_TIMEOUT_MS });
  }
}

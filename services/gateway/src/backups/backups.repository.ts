import { Injectable } from '@nestjs/common';
import { Rpc } from '@overskill/contracts';
import { NatsRpcClient, type RpcRequestInit, type RpcResponse } from '@overskill/messaging';

// Answered when the database is restored: replaying a day of WAL can take minutes.
const RESTORE_TIMEOUT_MS = 30 * 60_000;

// The backup service's catalog, archives and drills, over NATS.
@Injectable()
export class BackupsRepository {
  constructor(private readonly rpc: NatsRpcClient) {}

  list(req: RpcRequestInit<typeof Rpc.backupCatalogList>): Promise<RpcResponse<typeof Rpc.backupCatalogList>> {
    return this.rpc.send(Rpc.backupCatalogList, req);
  }

  create(req: RpcRequestInit<typeof Rpc.backupArchiveCreate>): Promise<RpcResponse<typeof Rpc.backupArchiveCreate>> {
    return this.rpc.send(Rpc.backupArchiveCreate, req);
  }

  get(req: RpcRequestInit<typeof Rpc.backupArchiveGet>): Promise<RpcResponse<typeof Rpc.backupArchiveGet>> {
    return this.rpc.send(Rpc.backupArchiveGet, req);
  }

  verify(req: RpcRequestInit<typeof Rpc.backupArchiveVerify>): Promise<RpcResponse<typeof Rpc.backupArchiveVerify>> {
    return this.rpc.send(Rpc.backupArchiveVerify, req);
  }

  restore(req: RpcRequestInit<typeof Rpc.backupArchiveRestore>): Promise<RpcResponse<typeof Rpc.backupArchiveRestore>> {
    return this.rpc.send(Rpc.backupArchiveRestore, req, { timeoutMs: RESTORE_TIMEOUT_MS });
  }

  drill(req: RpcRequestInit<typeof Rpc.backupDrillRun>): Promise<RpcResponse<typeof Rpc.backupDrillRun>> {
    return this.rpc.send(Rpc.backupDrillRun, req);
  }
}

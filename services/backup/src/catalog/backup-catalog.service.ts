import { Injectable } from '@nestjs/common';
import type { Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { BackupCatalogRepository } from './backup-catalog.repository';

@Injectable()
export class BackupCatalogService {
  constructor(private readonly catalog: BackupCatalogRepository) {}

  async list(req: RpcRequest<typeof Rpc.backupCatalogList>): Promise<RpcReply<typeof Rpc.backupCatalogList>> {
    const rows = await this.catalog.latest(Math.min(Math.max(req.limit || 30, 1), 500));
    return {
      backups: rows.map((b) => ({ id: b.id, kind: b.kind, status: b.status, sizeBytes: BigInt(b.sizeBytes), sha256: b.sha256, createdAt: b.createdAt.toISOString() })),
    };
  }
}

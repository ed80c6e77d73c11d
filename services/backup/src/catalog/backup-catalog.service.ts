import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type backupV1 } from '@overskill/contracts';
import type { Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { BackupEntity } from '../persistence/entities';
import { BackupCatalogRepository } from './backup-catalog.repository';

export type BackupMessage = MessageInitShape<typeof backupV1.BackupSchema>;

export function toBackupMessage(b: BackupEntity): BackupMessage {
  return {
    id: b.id,
    kind: b.kind,
    status: b.status,
    sizeBytes: BigInt(b.sizeBytes),
    sha256: b.sha256,
    createdAt: b.createdAt.toISOString(),
    fileName: b.fileName,
    encrypted: b.encrypted,
    error: b.error,
    trigger: b.trigger,
    finishedAt: b.finishedAt?.toISOString() ?? '',
    verifiedAt: b.verifiedAt?.toISOString() ?? '',
    verifyError: b.verifyError,
    drilledAt: b.drilledAt?.toISOString() ?? '',
    drillResult: b.drillOk === null ? '' : b.drillOk ? 'passed' : 'failed',
    drillRtoMs: BigInt(b.drillRtoMs ?? 0),
    drillDetail: b.drillDetail,
    copyPath: b.copyPath,
    progressBytes: BigInt(b.progressBytes ?? 0),
  };
}

@Injectable()
export class BackupCatalogService {
  constructor(private readonly catalog: BackupCatalogRepository) {}

  async list(req: RpcRequest<typeof Rpc.backupCatalogList>): Promise<RpcReply<typeof Rpc.backupCatalogList>> {
    // A list is where an operator looks first: interrupted backups show as failed, not running forever.
    await this.catalog.failInterrupted();
    const rows = await this.catalog.latest(Math.min(Math.max(req.limit || 30, 1), 500));
    return { backups: rows.map(toBackupMessage) };
  }

  async get(id: string): Promise<RpcReply<typeof Rpc.backupArchiveGet>> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError(ErrorCode.VALIDATION_FAILED, `"${id}" is not a backup id (a UUID from \`overskill backup list\`)`);
    await this.catalog.failInterrupted();
    const row = await this.catalog.find(id);
    if (!row) throw new AppError(ErrorCode.BACKUP_NOT_FOUND, `no backup ${id} in the catalog; see \`overskill backup list\``);
    return { backup: toBackupMessage(row), manifestJson: row.manifest ? JSON.stringify(row.manifest) : '' };
  }
}

import { Injectable } from '@nestjs/common';
import { backupView, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';

const RESTORE_TIMEOUT_MS = 30 * 60_000;

// The backup service's operator surface, asked over NATS and answered as the API's JSON.
@Injectable()
export class BackupAdminService {
  constructor(private readonly rpc: NatsRpcClient) {}

  async list(limit: number) {
    const r = await this.rpc.send(Rpc.backupCatalogList, { limit });
    return { backups: r.backups.map(backupView) };
  }

  async create(type: string, encrypt: boolean) {
    const r = await this.rpc.send(Rpc.backupArchiveCreate, { type, encrypt, trigger: 'manual', background: true });
    return r.backup ? backupView(r.backup) : null;
  }

  async get(backupId: string) {
    const r = await this.rpc.send(Rpc.backupArchiveGet, { id: backupId });
    return { ...(r.backup ? backupView(r.backup) : null), manifest: r.manifestJson ? (JSON.parse(r.manifestJson) as Record<string, unknown>) : null };
  }

  async verify(backupId: string) {
    const r = await this.rpc.send(Rpc.backupArchiveVerify, { id: backupId, background: true });
    return { backupId: r.backupId, status: 'verifying' as const };
  }

  // Answers when the database is restored: replaying a day of WAL can take minutes.
  async restoreToMoment(to: string, backupId: string | undefined) {
    const r = await this.rpc.send(Rpc.backupArchiveRestore, { id: backupId ?? '', target: 'scratch', to }, { timeoutMs: RESTORE_TIMEOUT_MS });
    return {
      baseBackupId: r.backupId,
      recoveredTo: r.recoveredTo,
      scratchDatabase: r.scratchDatabase,
      walSegments: r.walSegments,
      restored: r.restored,
      durationMs: Number(r.durationMs),
    };
  }

  async drill(backupId: string | undefined) {
    const r = await this.rpc.send(Rpc.backupDrillRun, { id: backupId ?? '', background: true });
    return { backupId: r.backupId, status: 'drilling' as const };
  }
}

import { Controller, Req, UseGuards } from '@nestjs/common';
import { Rpc, type backupV1 } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { ApiRoute, parseRequest, ROUTES } from '../api/routes';
import { ApiKeyGuard, type AuthenticatedRequest } from '../keys/api-key.guard';

const RESTORE_TIMEOUT_MS = 30 * 60_000;

function backupJson(b: backupV1.Backup | undefined) {
  if (!b) return null;
  return {
    id: b.id,
    type: b.kind,
    status: b.status,
    fileName: b.fileName || null,
    sizeBytes: Number(b.sizeBytes),
    sha256: b.sha256 || null,
    encrypted: b.encrypted,
    trigger: b.trigger,
    createdAt: b.createdAt,
    finishedAt: b.finishedAt || null,
    error: b.error || null,
    verifiedAt: b.verifiedAt || null,
    verifyError: b.verifyError || null,
    drill: b.drillResult ? { result: b.drillResult, at: b.drilledAt, rtoMs: Number(b.drillRtoMs), detail: b.drillDetail } : null,
  };
}

// The backup service's operator surface over HTTP (operator teams' admins and owners).
@Controller()
@UseGuards(ApiKeyGuard)
export class BackupAdminHttpController {
  constructor(private readonly rpc: NatsRpcClient) {}

  @ApiRoute(ROUTES.listBackups)
  async list(@Req() req: AuthenticatedRequest) {
    const { limit } = parseRequest(ROUTES.listBackups, req).query;
    const r = await this.rpc.send(Rpc.backupCatalogList, { limit });
    return { backups: r.backups.map(backupJson) };
  }

  @ApiRoute(ROUTES.createBackup)
  async create(@Req() req: AuthenticatedRequest) {
    const { type, encrypt } = parseRequest(ROUTES.createBackup, req).body;
    const r = await this.rpc.send(Rpc.backupArchiveCreate, { type, encrypt, trigger: 'manual', background: true });
    return backupJson(r.backup);
  }

  @ApiRoute(ROUTES.getBackup)
  async get(@Req() req: AuthenticatedRequest) {
    const { backupId } = parseRequest(ROUTES.getBackup, req).params;
    const r = await this.rpc.send(Rpc.backupArchiveGet, { id: backupId });
    return { ...backupJson(r.backup), manifest: r.manifestJson ? (JSON.parse(r.manifestJson) as Record<string, unknown>) : null };
  }

  @ApiRoute(ROUTES.verifyBackup)
  async verify(@Req() req: AuthenticatedRequest) {
    const { backupId } = parseRequest(ROUTES.verifyBackup, req).params;
    const r = await this.rpc.send(Rpc.backupArchiveVerify, { id: backupId, background: true });
    return { backupId: r.backupId, status: 'verifying' as const };
  }

  // Answers when the database is restored: replaying a day of WAL can take minutes.
  @ApiRoute(ROUTES.restoreBackupToMoment)
  async restoreToMoment(@Req() req: AuthenticatedRequest) {
    const { to, backupId } = parseRequest(ROUTES.restoreBackupToMoment, req).body;
    const r = await this.rpc.send(Rpc.backupArchiveRestore, { id: backupId ?? '', target: 'scratch', to }, { timeoutMs: RESTORE_TIMEOUT_MS });
    return { baseBackupId: r.backupId, recoveredTo: r.recoveredTo, scratchDatabase: r.scratchDatabase, walSegments: r.walSegments, restored: r.restored, durationMs: Number(r.durationMs) };
  }

  @ApiRoute(ROUTES.drillBackup)
  async drill(@Req() req: AuthenticatedRequest) {
    const { backupId } = parseRequest(ROUTES.drillBackup, req).body;
    const r = await this.rpc.send(Rpc.backupDrillRun, { id: backupId ?? '', background: true });
    return { backupId: r.backupId, status: 'drilling' as const };
  }
}

import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, ErrorCode, Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { BackupCreateService } from '../archive/backup-create.service';
import { BackupDrillService } from '../drill/backup-drill.service';
import { BackupRestoreService } from '../restore/backup-restore.service';
import { ProgressPublisher } from '../progress/progress.publisher';
import { BackupPruneService } from '../retention/backup-prune.service';
import { BackupVerifyService } from '../verify/backup-verify.service';
import { BackupCatalogService } from './backup-catalog.service';

function optionalId(id: string): string | undefined {
  if (!id) return undefined;
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError(ErrorCode.VALIDATION_FAILED, `"${id}" is not a backup id (a UUID from \`overskill backup list\`)`);
  return id;
}

@Controller()
export class BackupCatalogController {
  private readonly log = new Logger(BackupCatalogController.name);

  constructor(
    private readonly catalog: BackupCatalogService,
    private readonly creator: BackupCreateService,
    private readonly verifier: BackupVerifyService,
    private readonly restorer: BackupRestoreService,
    private readonly driller: BackupDrillService,
    private readonly pruner: BackupPruneService,
    private readonly progress: ProgressPublisher,
  ) {}

  @RpcHandler(Rpc.backupCatalogList)
  list(@Payload() req: RpcRequest<typeof Rpc.backupCatalogList>): Promise<RpcReply<typeof Rpc.backupCatalogList>> {
    return this.catalog.list(req);
  }

  @RpcHandler(Rpc.backupArchiveGet)
  get(@Payload() req: RpcRequest<typeof Rpc.backupArchiveGet>): Promise<RpcReply<typeof Rpc.backupArchiveGet>> {
    return this.catalog.get(req.id);
  }

  @RpcHandler(Rpc.backupArchiveCreate)
  async create(@Payload() req: RpcRequest<typeof Rpc.backupArchiveCreate>): Promise<RpcReply<typeof Rpc.backupArchiveCreate>> {
    const trigger = req.trigger === 'deploy' ? 'deploy' : 'manual';
    const job = await this.creator.start({ type: req.type, encrypt: req.encrypt, trigger });
    // In the background the outcome lands in the catalog row (and the log), not in this reply.
    if (req.background) void job.done.catch((err: Error) => this.log.warn(`background backup ${job.id}: ${err.message}`));
    else await job.done;
    return this.catalog.get(job.id);
  }

  @RpcHandler(Rpc.backupArchiveVerify)
  async verify(@Payload() req: RpcRequest<typeof Rpc.backupArchiveVerify>): Promise<RpcReply<typeof Rpc.backupArchiveVerify>> {
    const ref = { id: optionalId(req.id), file: req.file || undefined };
    if (req.background) {
      if (!ref.id) throw new AppError(ErrorCode.VALIDATION_FAILED, 'a background verify needs a backup id: its result is stored in the catalog row');
      const { file } = await this.verifier.locate(ref);
      void this.verifier.verify(ref).catch((err: Error) => this.log.warn(`background verify ${ref.id}: ${err.message}`));
      return { ok: false, backupId: ref.id, file, checks: [], pending: true };
    }
    const result = await this.progress.during(req.progressSubject, (progress) => this.verifier.verify(ref, progress));
    return { ok: result.ok, backupId: result.backupId, file: result.file, checks: result.checks, pending: false };
  }

  @RpcHandler(Rpc.backupArchiveRestore)
  async restore(@Payload() req: RpcRequest<typeof Rpc.backupArchiveRestore>): Promise<RpcReply<typeof Rpc.backupArchiveRestore>> {
    if (req.target !== 'scratch' && req.target !== 'live')
      throw new AppError(ErrorCode.VALIDATION_FAILED, `--target must be scratch or live (got "${req.target}")`);
    const target: 'scratch' | 'live' = req.target;
    const ref = { id: optionalId(req.id), file: req.file || undefined };
    const r = await this.progress.during(req.progressSubject, (progress) =>
      this.restorer.restore({ ...ref, target, force: req.force, appId: req.appId || undefined, to: req.to || undefined, progress }),
    );
    const { pointInTime, ...rest } = r;
    return { ...rest, durationMs: BigInt(r.durationMs), recoveredTo: pointInTime?.recoveredTo ?? '', walSegments: pointInTime?.walSegments ?? 0 };
  }

  @RpcHandler(Rpc.backupDrillRun)
  async drill(@Payload() req: RpcRequest<typeof Rpc.backupDrillRun>): Promise<RpcReply<typeof Rpc.backupDrillRun>> {
    const row = await this.driller.choose(optionalId(req.id));
    if (req.background) {
      void this.driller.drillBackup(row).catch((err: Error) => this.log.warn(`background drill of ${row.id}: ${err.message}`));
      return { backupId: row.id, ok: false, rtoMs: 0n, findings: [], tablesCompared: 0, repositoriesCompared: 0, pending: true };
    }
    const r = await this.progress.during(req.progressSubject, (progress) => this.driller.drillBackup(row, progress));
    return { ...r, rtoMs: BigInt(r.rtoMs), pending: false };
  }

  @RpcHandler(Rpc.backupArchivePrune)
  async prune(@Payload() req: RpcRequest<typeof Rpc.backupArchivePrune>): Promise<RpcReply<typeof Rpc.backupArchivePrune>> {
    const r = await this.pruner.prune(req.dryRun);
    return {
      dryRun: r.dryRun,
      walSegments: r.walSegments,
      expired: r.expired.map((e) => ({ id: e.id, kind: e.kind, createdAt: e.createdAt, fileName: e.fileName })),
    };
  }
}

import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import type { BackupManifest } from '../archive/backup-manifest';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { BackupEntity } from '../persistence/entities';

// A running backup whose heartbeat is this many beats old was interrupted.
export const STALE_BEATS = 6;

@Injectable()
export class BackupCatalogRepository {
  constructor(
    private readonly dataSource: DataSource,
    @Optional() @Inject(BACKUP_ENV) private readonly env?: Pick<BackupEnv, 'BACKUP_HEARTBEAT_MS'>,
  ) {}

  get staleMs(): number {
    return (this.env?.BACKUP_HEARTBEAT_MS ?? 5000) * STALE_BEATS;
  }

  private get rows() {
    return this.dataSource.getRepository(BackupEntity);
  }

  latest(limit: number): Promise<BackupEntity[]> {
    return this.rows.find({ where: { deletedAt: IsNull() }, order: { createdAt: 'DESC' }, take: limit });
  }

  all(): Promise<BackupEntity[]> {
    return this.rows.find({ where: { deletedAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  find(id: string): Promise<BackupEntity | null> {
    return this.rows.findOne({ where: { id, deletedAt: IsNull() } });
  }

  findByFile(fileName: string): Promise<BackupEntity | null> {
    return this.rows.findOne({ where: { fileName, deletedAt: IsNull() } });
  }

  async start(row: { id: string; kind: string; encrypted: boolean; trigger: string; createdAt: Date }): Promise<void> {
    await this.rows.insert({ ...row, status: 'running', heartbeatAt: new Date() });
  }

  async heartbeat(id: string, progressBytes: number): Promise<void> {
    await this.rows.update({ id, status: 'running' }, { heartbeatAt: new Date(), progressBytes: String(progressBytes) });
  }

  async complete(
    id: string,
    done: { path: string; fileName: string; copyPath: string; sizeBytes: number; sha256: string; manifest: BackupManifest },
  ): Promise<void> {
    await this.rows.update({ id }, { ...done, sizeBytes: String(done.sizeBytes), status: 'completed', finishedAt: new Date(), heartbeatAt: null });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.rows.update({ id }, { status: 'failed', error: error.slice(0, 4000), finishedAt: new Date(), heartbeatAt: null });
  }

  async recordVerify(id: string, ok: boolean, error: string): Promise<void> {
    await this.rows.update(id, ok ? { verifiedAt: new Date(), verifyError: '' } : { verifyError: error.slice(0, 4000) });
  }

  async recordDrill(id: string, result: { ok: boolean; rtoMs: number; detail: string }): Promise<void> {
    await this.rows.update(id, { drilledAt: new Date(), drillOk: result.ok, drillRtoMs: result.rtoMs, drillDetail: result.detail.slice(0, 4000) });
  }

  async markDeleted(id: string): Promise<void> {
    await this.rows.update(id, { deletedAt: new Date() });
  }

  // Running rows whose process died (kill -9, host lost) become failed, with the reason.
  async failInterrupted(): Promise<number> {
    const res = await this.dataSource.query(
      `UPDATE "backup"."backups" SET status = 'failed', error = 'interrupted: the backup process stopped before the archive was complete', finished_at = now(), heartbeat_at = NULL
       WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id`,
      [this.staleMs / 1000],
    );
    return (res as [unknown[], number])[1] ?? 0;
  }

  async anyRunning(): Promise<boolean> {
    return (await this.rows.count({ where: { status: 'running' } })) > 0;
  }

  // True for exactly one caller per (job, due time), whichever replica asks first.
  async claimSchedule(job: string, dueAt: Date, replica: string): Promise<boolean> {
    const res = await this.dataSource.query(
      `INSERT INTO "backup"."schedule_runs" (job, due_at, replica) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING job`,
      [job, dueAt, replica],
    );
    return (res as unknown[]).length === 1;
  }

  async lastScheduled(job: string): Promise<Date | null> {
    const res = (await this.dataSource.query(`SELECT max(due_at) AS at FROM "backup"."schedule_runs" WHERE job = $1`, [job])) as { at: Date | null }[];
    return res[0]?.at ?? null;
  }
}

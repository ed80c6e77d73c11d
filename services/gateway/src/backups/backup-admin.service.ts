import { Injectable } from '@nestjs/common';
import { backupView } from '@overskill/contracts';
import { BackupsRepository } from './backups.repository';

// The backup service's operator surface, answered as the API's JSON.
@Injectable()
export class BackupAdminService {
  constructor(private readonly backups: BackupsRepository) {}

  async list(limit: number) {
    const r = await this.backups.list({ limit });
    return { backups: r.backups.map(backupView) };
  }

  async create(type: string, encrypt: boolean) {
    const r = await this.backups.create({ type, encrypt, trigger: 'manual', background: true });
    return r.backup ? backupView(r.backup) : null;
  }

  async get(backupId: string) {
    const r = await this.backups.get({ id: backupId });
    return { ...(r.backup ? backupView(r.backup) : null), manifest: r.manifestJson ? (JSON.parse(r.manifestJson) as Record<string, unknown>) : null };
  }

  async verify(backupId: string) {
    const r = await this.backups.verify({ id: backupId, background: true });
    return { backupId: r.backupId, status: 'verifying' as const };
  }

  // Answers when the database is restored: replaying a day of WAL can take minutes.
  async restoreToMoment(to: string, backupId: string | undefined) {
    const r = await this.backups.restore({ id: backupId ?? '', target: 'scratch', to });
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
    const r = await this.backups.drill({ id: backupId ?? '', background: true });
    return { backupId: r.backupId, status: 'drilling' as const };
  }
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface SecurityBaseline {
  settings: Record<string, string>;
  acceptedAt: Date;
}

// The accepted security settings, one row in the backup schema.
@Injectable()
export class SecurityBaselineRepository {
  constructor(private readonly dataSource: DataSource) {}

  async get(): Promise<SecurityBaseline | undefined> {
    const rows = (await this.dataSource.query(`SELECT settings, accepted_at FROM "backup"."security_baseline" WHERE id = 1`)) as {
      settings: Record<string, string>;
      accepted_at: Date;
    }[];
    const row = rows[0];
    return row ? { settings: row.settings, acceptedAt: row.accepted_at } : undefined;
  }

  async accept(settings: Record<string, string>): Promise<Date> {
    const rows = (await this.dataSource.query(
      `INSERT INTO "backup"."security_baseline" (id, settings, accepted_at) VALUES (1, $1, now())
       ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, accepted_at = EXCLUDED.accepted_at RETURNING accepted_at`,
      [JSON.stringify(settings)],
    )) as [{ accepted_at: Date }];
    return rows[0].accepted_at;
  }
}

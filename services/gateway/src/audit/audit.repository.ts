import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface AuditRow {
  id: string;
  occurredAt: Date;
  teamId: string | null;
  actor: string;
  keyPrefix: string;
  action: string;
  target: string;
  ip: string;
  result: string;
  status: number;
  correlationId: string;
}

export interface AuditQuery {
  teamId: string;
  actor?: string;
  action?: string;
  result?: string;
  since?: Date;
  until?: Date;
  // Keyset cursor: rows strictly older than (occurredAt, id).
  before?: { occurredAt: Date; id: string };
  limit: number;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  // The only write: INSERT. UPDATE, DELETE and TRUNCATE are refused by a trigger.
  async insert(row: AuditRow): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO "gateway"."audit_log" (id, occurred_at, team_id, actor, key_prefix, action, target, ip, result, status, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [row.id, row.occurredAt, row.teamId, row.actor, row.keyPrefix, row.action, row.target, row.ip, row.result, row.status, row.correlationId],
    );
  }

  async query(q: AuditQuery): Promise<AuditRow[]> {
    const where = ['team_id = $1'];
    const args: unknown[] = [q.teamId];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.actor) {
      args.push(q.actor);
      where.push(`(actor = $${args.length} OR key_prefix = $${args.length})`);
    }
    if (q.action) add('action = ?', q.action);
    if (q.result) add('result = ?', q.result);
    if (q.since) add('occurred_at >= ?', q.since);
    if (q.until) add('occurred_at < ?', q.until);
    if (q.before) {
      args.push(q.before.occurredAt, q.before.id);
      where.push(`(occurred_at, id) < ($${args.length - 1}, $${args.length})`);
    }
    args.push(q.limit);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id, occurred_at, team_id, actor, key_prefix, action, target, ip, result, status, correlation_id
       FROM "gateway"."audit_log" WHERE ${where.join(' AND ')} ORDER BY occurred_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => ({
      id: r.id as string,
      occurredAt: r.occurred_at as Date,
      teamId: r.team_id as string | null,
      actor: r.actor as string,
      keyPrefix: r.key_prefix as string,
      action: r.action as string,
      target: r.target as string,
      ip: r.ip as string,
      result: r.result as string,
      status: r.status as number,
      correlationId: r.correlation_id as string,
    }));
  }
}

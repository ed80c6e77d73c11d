import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AuditEventsRepository } from './audit-events.repository';
import { AuditRepository, type AuditRow } from './audit.repository';

export type AuditEntry = Omit<AuditRow, 'id' | 'occurredAt'>;

export interface AuditFilters {
  actor?: string;
  action?: string;
  result?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit: number;
}

// Writes the append-only audit log and publishes each row on the EVENTS stream for analytics.
@Injectable()
export class AuditService {
  constructor(
    private readonly audit: AuditRepository,
    private readonly events: AuditEventsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async record(entry: AuditEntry): Promise<AuditRow> {
    const row: AuditRow = { id: randomUUID(), occurredAt: new Date(), ...clip(entry) };
    await this.audit.insert(row);
    try {
      await this.events.publish(row);
    } catch (err) {
      // The row is stored (the record of truth); analytics misses this one fact.
      this.logger.warn({ err: (err as Error).message, auditId: row.id }, 'audit event not published');
    }
    return row;
  }

  // Never throws: an audit write that fails is logged loudly, the response was already sent.
  recordInBackground(entry: AuditEntry): void {
    this.record(entry).catch((err: unknown) => this.logger.error({ err, action: entry.action }, 'audit log write failed'));
  }

  async query(teamId: string, f: AuditFilters) {
    const before = f.cursor ? decodeCursor(f.cursor) : undefined;
    const rows = await this.audit.query({
      teamId,
      actor: f.actor,
      action: f.action,
      result: f.result,
      since: f.since ? new Date(f.since) : undefined,
      until: f.until ? new Date(f.until) : undefined,
      before,
      limit: f.limit + 1,
    });
    const page = rows.slice(0, f.limit);
    const last = page.at(-1);
    return {
      data: page.map((r) => ({
        id: r.id,
        occurredAt: r.occurredAt.toISOString(),
        actor: r.actor || null,
        keyPrefix: r.keyPrefix || null,
        action: r.action,
        target: r.target || null,
        ip: r.ip,
        result: r.result,
        status: r.status,
        correlationId: r.correlationId,
      })),
      nextCursor: rows.length > f.limit && last ? encodeCursor(last) : null,
    };
  }
}

function clip(e: AuditEntry): AuditEntry {
  return {
    ...e,
    actor: e.actor.slice(0, 64),
    keyPrefix: e.keyPrefix.slice(0, 16),
    action: e.action.slice(0, 200),
    target: e.target.slice(0, 300),
    ip: e.ip.slice(0, 64),
    result: e.result.slice(0, 64),
    correlationId: e.correlationId.slice(0, 128),
  };
}

function encodeCursor(row: AuditRow): string {
  return Buffer.from(JSON.stringify({ t: row.occurredAt.toISOString(), id: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    const occurredAt = new Date(String(value.t));
    if (typeof value.id === 'string' && /^[0-9a-f-]{36}$/.test(value.id) && !Number.isNaN(occurredAt.getTime())) return { occurredAt, id: value.id };
  } catch {
    // fall through
  }
  throw new AppError(ErrorCode.VALIDATION_FAILED, 'cursor is not one this API returned; start again without it');
}

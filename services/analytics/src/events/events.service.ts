import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc, isEntityId } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { findSecrets } from '@overskill/observability';
import { EventsRepository } from './events.repository';

@Injectable()
export class EventsService {
  constructor(private readonly events: EventsRepository) {}

  async count(req: RpcRequest<typeof Rpc.analyticsEventCount>): Promise<RpcReply<typeof Rpc.analyticsEventCount>> {
    if (!req.type || req.type.length > 100) throw new AppError(ErrorCode.VALIDATION_FAILED, 'type must be 1 to 100 characters');
    if (req.teamId && !isEntityId(req.teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
    return { count: BigInt(await this.events.count(req.type, req.teamId || undefined)) };
  }

  async toolStats(req: RpcRequest<typeof Rpc.analyticsToolStatsRead>): Promise<RpcReply<typeof Rpc.analyticsToolStatsRead>> {
    if (!isEntityId(req.teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
    const since = new Date(req.since);
    if (!req.since || Number.isNaN(since.getTime())) throw new AppError(ErrorCode.VALIDATION_FAILED, 'since must be an ISO-8601 time');
    const rows = await this.events.toolStats(req.teamId, since);
    return { rows: rows.map((r) => ({ ...r, count: BigInt(r.count) })) };
  }

  // Stored facts that hold a credential: a fingerprint of each, never the value.
  async secretScan(req: RpcRequest<typeof Rpc.analyticsEventSecretScan>): Promise<RpcReply<typeof Rpc.analyticsEventSecretScan>> {
    if (req.limit < 0 || req.limit > 10_000) throw new AppError(ErrorCode.VALIDATION_FAILED, 'limit must be 0 to 10000');
    const limit = req.limit || 1000;
    const { rows, scanned } = await this.events.withSecretMarkers(limit);
    const secrets = rows.flatMap((r) =>
      findSecrets(r.text).map((m) => ({
        eventId: r.event_id,
        type: r.type,
        occurredAt: new Date(r.occurred_at).toISOString(),
        kind: m.kind,
        fingerprint: m.fingerprint,
      })),
    );
    return { secrets, eventsScanned: BigInt(scanned), truncated: rows.length === limit };
  }
}

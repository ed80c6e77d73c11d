import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc, isEntityId } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
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
}

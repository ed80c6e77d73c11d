import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { teamScope } from '../business/business.service';
import { dayRange } from '../days/utc-days';
import { AggregatesRepository } from './aggregates.repository';
import { EventsConsumerRepository } from './events-consumer.repository';

// A rebuild request covers at most a month; the CLI asks day by day to show progress.
export const MAX_REBUILD_DAYS = 31;

@Injectable()
export class AggregatesService {
  constructor(
    private readonly aggregates: AggregatesRepository,
    private readonly consumer: EventsConsumerRepository,
  ) {}

  async rebuild(req: RpcRequest<typeof Rpc.analyticsAggregatesRebuild>): Promise<RpcReply<typeof Rpc.analyticsAggregatesRebuild>> {
    const teamId = teamScope(req.teamId);
    const days = dayRange(req.from, req.to, MAX_REBUILD_DAYS);
    let events = 0;
    let rows = 0;
    for (const day of days) {
      const r = await this.aggregates.rebuildDay(day, teamId);
      events += r.events;
      rows += r.rows;
    }
    return { days: days.length, events: BigInt(events), rows: BigInt(rows) };
  }

  async probe(req: RpcRequest<typeof Rpc.analyticsProbeGet>): Promise<RpcReply<typeof Rpc.analyticsProbeGet>> {
    if (!isEntityId(req.eventId)) throw new AppError(ErrorCode.VALIDATION_FAILED, "event_id must be the probe's uuid");
    if (!isEntityId(req.teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
    const [probe, backlog] = await Promise.all([this.aggregates.probe(req.eventId, req.teamId), this.consumer.backlog()]);
    return { stored: probe.stored, aggregated: probe.aggregated >= 1, pending: BigInt(backlog.pending), ackPending: BigInt(backlog.ackPending) };
  }
}

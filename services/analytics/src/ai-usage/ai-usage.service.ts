import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { DAY_MS, dayRange, parseDay } from '../days/utc-days';
import { AiUsageRepository, type AiUsageCell } from './ai-usage.repository';

// A quarter and a bit: enough for a monthly report with its neighbours, bounded for the query.
export const MAX_USAGE_DAYS = 92;

type Totals = Omit<AiUsageCell, 'day' | 'appId'>;

@Injectable()
export class AiUsageService {
  constructor(private readonly repository: AiUsageRepository) {}

  async daily(req: RpcRequest<typeof Rpc.analyticsAiUsageDaily>): Promise<RpcReply<typeof Rpc.analyticsAiUsageDaily>> {
    if (!isEntityId(req.teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
    const dayList = dayRange(req.from, req.to, MAX_USAGE_DAYS);
    const from = parseDay(req.from, 'from');
    const to = parseDay(req.to, 'to');
    const cells = await this.repository.daily(req.teamId, from, new Date(to.getTime() + DAY_MS));

    const byDay = new Map<string, Totals>();
    const byApp = new Map<string, Totals>();
    const total = zero();
    for (const cell of cells) {
      add(byDay, cell.day, cell);
      add(byApp, cell.appId ?? '', cell);
      addTo(total, cell);
    }
    const apps = [...byApp.entries()].sort((a, b) => b[1].costUsd - a[1].costUsd || b[1].requests - a[1].requests || a[0].localeCompare(b[0]));
    return {
      from: req.from,
      to: req.to,
      days: dayList.map((day) => ({ day, totals: wire(byDay.get(day) ?? zero()) })),
      apps: apps.map(([appId, totals]) => ({ appId, totals: wire(totals) })),
      cells: cells.map((c) => ({ day: c.day, appId: c.appId ?? '', totals: wire(c) })),
      totals: wire(total),
    };
  }
}

function zero(): Totals {
  return { requests: 0, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUsd: 0 };
}

function addTo(target: Totals, cell: Totals): void {
  target.requests += cell.requests;
  target.inputTokens += cell.inputTokens;
  target.outputTokens += cell.outputTokens;
  target.cacheReadInputTokens += cell.cacheReadInputTokens;
  target.cacheCreationInputTokens += cell.cacheCreationInputTokens;
  target.costUsd += cell.costUsd;
}

function add(map: Map<string, Totals>, key: string, cell: Totals): void {
  let totals = map.get(key);
  if (!totals) map.set(key, (totals = zero()));
  addTo(totals, cell);
}

function wire(t: Totals) {
  return {
    requests: BigInt(t.requests),
    inputTokens: BigInt(t.inputTokens),
    outputTokens: BigInt(t.outputTokens),
    cacheReadInputTokens: BigInt(t.cacheReadInputTokens),
    cacheCreationInputTokens: BigInt(t.cacheCreationInputTokens),
    costUsd: t.costUsd,
  };
}

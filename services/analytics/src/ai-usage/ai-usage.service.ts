import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { AiUsageRepository, type AiUsageCell } from './ai-usage.repository';

const DAY_MS = 86_400_000;
// A quarter and a bit: enough for a monthly report with its neighbours, bounded for the query.
export const MAX_USAGE_DAYS = 92;

type Totals = Omit<AiUsageCell, 'day' | 'appId'>;

@Injectable()
export class AiUsageService {
  constructor(private readonly repository: AiUsageRepository) {}

  async daily(req: RpcRequest<typeof Rpc.analyticsAiUsageDaily>): Promise<RpcReply<typeof Rpc.analyticsAiUsageDaily>> {
    if (!isEntityId(req.teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
    const from = parseDay(req.from, 'from');
    const to = parseDay(req.to, 'to');
    if (to < from) throw new AppError(ErrorCode.VALIDATION_FAILED, `from (${req.from}) is after to (${req.to})`);
    const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
    if (days > MAX_USAGE_DAYS) throw new AppError(ErrorCode.VALIDATION_FAILED, `the range covers ${days} days; ask for at most ${MAX_USAGE_DAYS}`);
    const cells = await this.repository.daily(req.teamId, from, new Date(to.getTime() + DAY_MS));

    const byDay = new Map<string, Totals>();
    const byApp = new Map<string, Totals>();
    const total = zero();
    for (const cell of cells) {
      add(byDay, cell.day, cell);
      add(byApp, cell.appId ?? '', cell);
      addTo(total, cell);
    }
    const dayList = Array.from({ length: days }, (_, i) => new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10));
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

function parseDay(value: string, name: string): Date {
  const date = new Date(`${value}T00:00:00.000Z`);
  // Round-tripping catches 2026-02-31, which Date would roll into March.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, `${name} must be a calendar day as YYYY-MM-DD, got "${value}"`);
  }
  return date;
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

import { Injectable } from '@nestjs/common';
import type { Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { MAX_REPORT_DAYS, teamScope } from '../business/business.service';
import { DAY_MS, dayRange } from '../days/utc-days';
import { PerformanceRepository } from './performance.repository';

@Injectable()
export class PerformanceService {
  constructor(private readonly performance: PerformanceRepository) {}

  async read(req: RpcRequest<typeof Rpc.analyticsPerformanceRead>): Promise<RpcReply<typeof Rpc.analyticsPerformanceRead>> {
    const teamId = teamScope(req.teamId);
    const days = dayRange(req.from, req.to, MAX_REPORT_DAYS);
    const from = new Date(`${req.from}T00:00:00.000Z`);
    const until = new Date(from.getTime() + days.length * DAY_MS);
    const [latencies, throughput] = await Promise.all([this.performance.latencies(teamId, from, until), this.performance.throughput(teamId, from, until)]);
    const byDay = new Map(throughput.map((t) => [t.day, t]));
    return {
      from: req.from,
      to: req.to,
      latencies: latencies.map((l) => ({ ...l, count: BigInt(l.count), errors: BigInt(l.errors) })),
      days: days.map((day) => {
        const t = byDay.get(day);
        return {
          day,
          runs: BigInt(t?.runs ?? 0),
          runsFailed: BigInt(t?.runsFailed ?? 0),
          aiRequests: BigInt(t?.aiRequests ?? 0),
          toolCalls: BigInt(t?.toolCalls ?? 0),
          apiWrites: BigInt(t?.apiWrites ?? 0),
        };
      }),
    };
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AppError, businessMetricsView, businessReportView, ErrorCode, performanceReportView } from '@overskill/contracts';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import type { Principal } from '../routing/access';
import { ApiKeysService } from '../keys/api-keys.service';
import { REPORT_MAX_DAYS } from '../routing/reports.schema';
import { ReportsRepository } from './reports.repository';

const DAY_MS = 86_400_000;

interface Range {
  from?: string;
  to?: string;
  team?: string;
}

// Business and performance figures from analytics: the caller's team, or any team and every
// team for keys of the operator teams.
@Injectable()
export class ReportsApiService {
  constructor(
    private readonly reports: ReportsRepository,
    private readonly keys: ApiKeysService,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  async business(principal: Principal, q: Range) {
    const req = await this.request(principal, q);
    return businessReportView(await this.reports.business(req));
  }

  async performance(principal: Principal, q: Range) {
    const req = await this.request(principal, q);
    return performanceReportView(await this.reports.performance(req));
  }

  async metrics(principal: Principal, q: { day?: string; team?: string }) {
    const day = q.day ?? new Date().toISOString().slice(0, 10);
    const req = await this.request(principal, { from: day, to: day, team: q.team });
    return businessMetricsView(await this.reports.business(req));
  }

  // Days are UTC dates; by default the last 30, ending today. team_id "" = every team.
  private async request(principal: Principal, q: Range): Promise<{ teamId: string; from: string; to: string }> {
    const to = q.to ?? new Date().toISOString().slice(0, 10);
    const from = q.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10);
    // The schema checks a range given whole; this covers one end given and the other defaulted.
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days < 1) throw new AppError(ErrorCode.VALIDATION_FAILED, `from (${from}) must not be after to (${to})`);
    if (days > REPORT_MAX_DAYS)
      throw new AppError(ErrorCode.VALIDATION_FAILED, `the range ${from}..${to} covers ${days} days; ask for at most ${REPORT_MAX_DAYS}`);
    const team = q.team ?? principal.teamId;
    if (team !== principal.teamId && !this.env.GATEWAY_OPERATOR_TEAMS.includes((await this.keys.teamSlug(principal.teamId)) ?? '')) {
      throw new AppError(ErrorCode.FORBIDDEN, "Only keys of the operator teams (GATEWAY_OPERATOR_TEAMS) may read another team's or every team's figures");
    }
    return { teamId: team === 'all' ? '' : team, from, to };
  }
}

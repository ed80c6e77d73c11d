import { Injectable } from '@nestjs/common';
import type { Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { daysOf, levelsFrom, limitOf, scopeOf, sinceOf, TOP_PAGES } from './preview-query';
import { PreviewRepository } from './preview.repository';

const DAY_MS = 24 * 60 * 60 * 1000;

// The app preview's console, network and traffic, as tool-runner's preview tools read them.
@Injectable()
export class PreviewService {
  constructor(private readonly preview: PreviewRepository) {}

  async consoleLogs(req: RpcRequest<typeof Rpc.analyticsConsoleRead>): Promise<RpcReply<typeof Rpc.analyticsConsoleRead>> {
    const scope = scopeOf(req);
    const query = { levels: levelsFrom(req.minLevel), since: sinceOf(req.since), limit: limitOf(req.limit) };
    const { rows, total } = await this.preview.consoleLogs(scope, query);
    return {
      entries: rows.map((r) => ({ level: r.level, message: r.message, source: r.source, pageUrl: r.pageUrl, occurredAt: r.occurredAt.toISOString() })),
      total: BigInt(total),
    };
  }

  async networkRequests(req: RpcRequest<typeof Rpc.analyticsNetworkRead>): Promise<RpcReply<typeof Rpc.analyticsNetworkRead>> {
    const scope = scopeOf(req);
    const { rows, total } = await this.preview.networkRequests(scope, { failedOnly: req.failedOnly, since: sinceOf(req.since), limit: limitOf(req.limit) });
    return {
      entries: rows.map((r) => ({
        method: r.method,
        url: r.url,
        status: r.status,
        durationMs: r.durationMs,
        error: r.error,
        pageUrl: r.pageUrl,
        occurredAt: r.occurredAt.toISOString(),
      })),
      total: BigInt(total),
    };
  }

  async report(req: RpcRequest<typeof Rpc.analyticsReportRead>, now: Date = new Date()): Promise<RpcReply<typeof Rpc.analyticsReportRead>> {
    const scope = scopeOf(req);
    const days = daysOf(req.days);
    const r = await this.preview.report(scope, new Date(now.getTime() - days * DAY_MS), TOP_PAGES);
    return {
      days,
      pageViews: BigInt(r.pageViews),
      uniqueVisitors: BigInt(r.uniqueVisitors),
      topPages: r.topPages.map((p) => ({ path: p.path, views: BigInt(p.views), visitors: BigInt(p.visitors) })),
      consoleErrors: BigInt(r.consoleErrors),
      failedRequests: BigInt(r.failedRequests),
      avgLoadMs: r.avgLoadMs,
    };
  }
}

import { Controller, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DrainController } from '../http/drain';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { PlatformApiService } from './platform-api.service';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { RunEventsService } from './run-events.service';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class RunsHttpController {
  constructor(
    private readonly api: PlatformApiService,
    private readonly events: RunEventsService,
    private readonly drain: DrainController,
  ) {}

  @ApiRoute(R.listRuns)
  listRuns(@Req() req: AuthenticatedRequest) {
    const { params, query } = parseRequest(R.listRuns, req);
    return this.api.listRuns(req.principal, params.appId, query);
  }

  @ApiRoute(R.getRun)
  getRun(@Req() req: AuthenticatedRequest) {
    return this.api.getRun(req.principal, parseRequest(R.getRun, req).params.runId);
  }

  @ApiRoute(R.cancelRun)
  cancelRun(@Req() req: AuthenticatedRequest) {
    const { params, body } = parseRequest(R.cancelRun, req);
    return this.api.cancelRun(req.principal, params.runId, body);
  }

  @ApiRoute(R.runEvents)
  async runEvents(@Req() req: AuthenticatedRequest, @Res() reply: FastifyReply): Promise<void> {
    const { params, query } = parseRequest(R.runEvents, req);
    const header = req.headers['last-event-id'];
    const fromHeader = typeof header === 'string' && /^\d{1,10}$/.test(header.trim()) ? Number(header.trim()) : undefined;
    const afterSeq = Math.min(fromHeader ?? query.lastEventId ?? 0, 2_147_483_647);
    // Errors (unknown run, another team's run) are thrown here, answered as JSON.
    const stream = await this.events.open(req.principal, params.runId, afterSeq);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let closed = false;
    const listeners: Array<() => void> = [];
    raw.on('close', () => {
      closed = true;
      for (const fn of listeners) fn();
    });
    // At shutdown the stream is ended; the client resumes elsewhere with Last-Event-ID.
    const untrack = this.drain.trackStream(() => raw.end());
    try {
      await stream.pump({
        write: (chunk) => (closed ? false : raw.write(chunk)),
        closed: () => closed,
        onClose: (fn) => listeners.push(fn),
        end: () => raw.end(),
      });
    } finally {
      untrack();
    }
  }
}

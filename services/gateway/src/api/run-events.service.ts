import { Inject, Injectable } from '@nestjs/common';
import { orchestratorV1 } from '@overskill/contracts';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import type { Principal } from '../routing/access';
import { RUN_STATUS_NAMES } from './platform-api.service';
import { RunEventsRepository } from './run-events.repository';

const TERMINAL = new Set([orchestratorV1.RunStatus.COMPLETED, orchestratorV1.RunStatus.FAILED, orchestratorV1.RunStatus.CANCELLED]);
const TERMINAL_KINDS = /^run_(completed|failed|cancelled)$/;
const REPLAY_PAGE = 200;
const HEARTBEAT_MS = 15_000;

export interface SseSink {
  write(chunk: string): boolean;
  closed(): boolean;
  onClose(fn: () => void): void;
  end(): void;
}

export interface OpenedRunStream {
  // Streams until a final status or the client leaves; never throws.
  pump(sink: SseSink): Promise<void>;
}

// Live events first, replay second: subscribing before reading the persisted events means an
// event published in between is in the buffer, and the seq dedup drops whatever both deliver.
@Injectable()
export class RunEventsService {
  constructor(
    private readonly events: RunEventsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // Resolves once the run is known to belong to the caller's team (else throws RUN_NOT_FOUND
  // before any byte of the stream is written), with the first replay page in hand.
  async open(principal: Principal, runId: string, afterSeq: number): Promise<OpenedRunStream> {
    const buffered: orchestratorV1.RunEvent[] = [];
    let deliver: ((e: orchestratorV1.RunEvent) => void) | undefined;
    const live = this.events.live(
      runId,
      (event) => {
        if (deliver) deliver(event);
        else buffered.push(event);
      },
      () => this.logger.warn({ runId }, 'undecodable run event skipped'),
    );
    let first: orchestratorV1.RunEventsListResponse;
    try {
      first = await this.events.list(principal.teamId, runId, afterSeq, REPLAY_PAGE);
    } catch (err) {
      live.close();
      throw err;
    }

    return {
      pump: async (sink) => {
        let lastSeq = afterSeq;
        let finished = false;
        const send = (e: orchestratorV1.RunEvent): void => {
          if (finished || e.seq <= lastSeq) return;
          lastSeq = e.seq;
          sink.write(formatEvent(e));
          if (TERMINAL.has(e.status) || TERMINAL_KINDS.test(e.kind)) finished = true;
        };
        const heartbeat = setInterval(() => sink.write(': keep-alive\n\n'), HEARTBEAT_MS);
        let wake: () => void = () => undefined;
        const done = new Promise<void>((resolve) => (wake = resolve));
        sink.onClose(() => wake());
        try {
          sink.write('retry: 2000\n\n');
          // Replay the persisted events after the client's last id, page by page.
          let page = first;
          for (;;) {
            for (const e of page.events) send(e);
            if (finished || page.events.length < REPLAY_PAGE || sink.closed()) break;
            page = await this.events.list(principal.teamId, runId, lastSeq, REPLAY_PAGE);
          }
          // A run already over whose final event is not in the log still ends the stream.
          if (!finished && page.complete && TERMINAL.has(page.status)) {
            sink.write(`event: end\ndata: ${JSON.stringify({ runId, status: RUN_STATUS_NAMES[page.status] })}\n\n`);
            finished = true;
          }
          for (const e of buffered.splice(0)) send(e);
          if (!finished && !sink.closed()) {
            deliver = (e) => {
              send(e);
              if (finished) wake();
            };
            await done;
          }
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, runId }, 'run event stream ended early');
          sink.write(
            `event: error\ndata: ${JSON.stringify({ code: (err as { code?: string }).code ?? 'INTERNAL', message: 'The event stream stopped; reconnect with Last-Event-ID to resume' })}\n\n`,
          );
        } finally {
          clearInterval(heartbeat);
          live.close();
          if (!sink.closed()) sink.end();
        }
      },
    };
  }
}

function formatEvent(e: orchestratorV1.RunEvent): string {
  const data = { runId: e.runId, seq: e.seq, kind: e.kind, summary: e.summary, status: RUN_STATUS_NAMES[e.status] ?? 'unknown', createdAt: e.createdAt };
  // kind is a short identifier; strip anything that could break the SSE framing.
  const kind = e.kind.replace(/[^A-Za-z0-9_.-]/g, '_') || 'message';
  return `id: ${e.seq}\nevent: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

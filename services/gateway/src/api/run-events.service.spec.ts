import { create } from '@bufbuild/protobuf';
import { AppError, ErrorCode, orchestratorV1 } from '@overskill/contracts';
import pino from 'pino';
import type { Principal } from '../routing/access';
import type { RunEventsRepository } from './run-events.repository';
import { RunEventsService, type SseSink } from './run-events.service';

// The stream's order with a fake repository: live events are taken before the replay is read,
// so an event published in between is neither lost nor sent twice, and the stream ends with the run.
describe('RunEventsService', () => {
  const principal: Principal = { keyId: 'key-1', keyPrefix: 'osk_x', teamId: 'team-1', role: 'viewer', scopes: [] };
  const { RUNNING, COMPLETED } = orchestratorV1.RunStatus;

  let publish: (event: orchestratorV1.RunEvent) => void;
  let pages: Array<orchestratorV1.RunEventsListResponse | Error>;
  let listed: Array<{ teamId: string; afterSeq: number }>;
  let closed: number;
  let service: RunEventsService;

  const event = (seq: number, kind: string, status = RUNNING) =>
    create(orchestratorV1.RunEventSchema, { runId: 'run-1', seq, kind, summary: kind, status, createdAt: '2026-12-07T00:00:00.000Z' });
  const page = (events: orchestratorV1.RunEvent[], status = RUNNING, complete = true) =>
    create(orchestratorV1.RunEventsListResponseSchema, { events, status, complete });
  const sink = () => {
    const written: string[] = [];
    const s: SseSink & { written: string[]; ended: boolean } = {
      written,
      ended: false,
      write: (chunk) => written.push(chunk) > 0,
      closed: () => false,
      onClose: () => undefined,
      end: () => {
        s.ended = true;
      },
    };
    return s;
  };
  const ids = (written: string[]) => written.flatMap((w) => /^id: (\d+)\n/.exec(w)?.[1] ?? []).map(Number);

  beforeEach(() => {
    pages = [];
    listed = [];
    closed = 0;
    const events = {
      live: (_runId: string, onEvent: (e: orchestratorV1.RunEvent) => void) => {
        publish = onEvent;
        return { close: () => (closed += 1) };
      },
      list: async (teamId: string, _runId: string, afterSeq: number) => {
        listed.push({ teamId, afterSeq });
        const next = pages.shift() ?? page([]);
        if (next instanceof Error) throw next;
        return next;
      },
    } as unknown as RunEventsRepository;
    service = new RunEventsService(events, pino({ level: 'silent' }));
  });

  it('sends an event published during the replay once, in order, and ends with the run', async () => {
    pages.push(page([event(1, 'run_started'), event(2, 'model_call')]));
    const opened = service.open(principal, 'run-1', 0);
    // Published after the subscription, before the replay was read: both deliver seq 2.
    publish(event(2, 'model_call'));
    publish(event(3, 'tool_call'));
    const out = sink();
    const pumped = (await opened).pump(out);
    await new Promise((resolve) => setImmediate(resolve));
    publish(event(4, 'run_completed', COMPLETED));
    publish(event(5, 'late'));
    await pumped;
    expect(ids(out.written)).toEqual([1, 2, 3, 4]);
    expect(listed).toEqual([{ teamId: 'team-1', afterSeq: 0 }]);
    expect(out.ended).toBe(true);
    expect(closed).toBe(1);
  });

  it('resumes after the client’s last id and ends a finished run whose final event is not logged', async () => {
    pages.push(page([event(3, 'tool_call')], COMPLETED));
    const out = sink();
    await (await service.open(principal, 'run-1', 2)).pump(out);
    expect(ids(out.written)).toEqual([3]);
    expect(out.written.at(-1)).toBe('event: end\ndata: {"runId":"run-1","status":"completed"}\n\n');
    expect(listed).toEqual([{ teamId: 'team-1', afterSeq: 2 }]);
  });

  it('reads the replay page by page', async () => {
    const full = Array.from({ length: 200 }, (_, i) => event(i + 1, 'step'));
    pages.push(page(full), page([event(201, 'run_completed', COMPLETED)]));
    const out = sink();
    await (await service.open(principal, 'run-1', 0)).pump(out);
    expect(ids(out.written)).toHaveLength(201);
    expect(listed.map((l) => l.afterSeq)).toEqual([0, 200]);
  });

  it('fails before any byte when the run is not the caller’s, and stops listening', async () => {
    pages.push(new AppError(ErrorCode.RUN_NOT_FOUND, 'Run run-1 not found'));
    await expect(service.open(principal, 'run-1', 0)).rejects.toMatchObject({ code: ErrorCode.RUN_NOT_FOUND });
    expect(closed).toBe(1);
  });
});

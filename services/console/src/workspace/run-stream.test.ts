import { afterEach, describe, expect, it, vi } from 'vitest';
import { controllableStream, sse } from '../test-utils';
import { streamRunEvents, type RunEvent, type StreamState } from './run-stream';

afterEach(() => vi.unstubAllGlobals());

async function until(predicate: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('streamRunEvents', () => {
  it('resumes a dropped stream with Last-Event-ID and delivers every event exactly once, in order', async () => {
    const first = controllableStream();
    const second = controllableStream();
    const headers: Array<Record<string, string>> = [];
    const responses = [first, second];
    const fetchFn = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      headers.push({ ...(init?.headers as Record<string, string>) });
      return (responses.shift() as ReturnType<typeof controllableStream>).response;
    });
    const events: RunEvent[] = [];
    const states: StreamState[] = [];
    const stop = streamRunEvents('r1', {
      afterSeq: 1,
      fetch: fetchFn as typeof fetch,
      baseDelayMs: 1,
      onEvent: (e) => events.push(e),
      onState: (s) => states.push(s),
    });

    await until(() => states.includes('live'));
    // A replay of what the page already had (seq 1) is dropped; 2 and 3 arrive, split across chunks.
    first.send(sse(1, 'run_started'));
    first.send(sse(2, 'model_call') + sse(3, 'tool_call').slice(0, 20));
    first.send(sse(3, 'tool_call').slice(20));
    await until(() => events.length === 2);
    first.drop();

    await until(() => fetchFn.mock.calls.length === 2);
    expect(headers[0]).toEqual({ accept: 'text/event-stream', 'last-event-id': '1' });
    expect(headers[1]).toEqual({ accept: 'text/event-stream', 'last-event-id': '3' });
    await until(() => states.at(-1) === 'live');
    // The gateway may send seq 3 again around the reconnection: it is not repeated.
    second.send(`: keep-alive\n\n${sse(3, 'tool_call')}${sse(4, 'commit')}`);
    second.send(sse(5, 'run_completed', 'completed'));
    await until(() => states.includes('ended'));

    expect(events.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
    expect(states).toEqual(['connecting', 'live', 'reconnecting', 'reconnecting', 'live', 'ended']);
    expect(fetchFn).toHaveBeenCalledTimes(2);
    stop();
  });

  it('reconnects when the stream ends cleanly before the final event, and stops on a 4xx', async () => {
    const first = controllableStream();
    let calls = 0;
    const fetchFn = vi.fn(async () => {
      calls += 1;
      if (calls === 1) return first.response;
      return new Response(JSON.stringify({ code: 'UNAUTHENTICATED', message: 'A valid API key is required' }), { status: 401 });
    });
    const states: Array<[StreamState, string | undefined]> = [];
    streamRunEvents('r1', { fetch: fetchFn as typeof fetch, baseDelayMs: 1, onEvent: () => undefined, onState: (s, d) => states.push([s, d]) });
    await until(() => states.some(([s]) => s === 'live'));
    first.send(sse(1, 'run_started'));
    first.end();
    await until(() => states.some(([s]) => s === 'failed'));
    expect(states.at(-1)).toEqual(['failed', 'A valid API key is required']);
    expect(fetchFn).toHaveBeenCalledTimes(2);
  });
});

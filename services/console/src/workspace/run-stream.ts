// A run's events over SSE with fetch (so the session cookie and Last-Event-ID are ours to send):
// events are delivered once each, in seq order; a dropped connection reconnects with the last
// seq seen, and anything the gateway sends again is dropped by seq.
export interface RunEvent {
  runId: string;
  seq: number;
  kind: string;
  summary: string;
  status: string;
  createdAt: string;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface RunStreamOptions {
  afterSeq?: number;
  onEvent(event: RunEvent): void;
  onState?(state: StreamState, detail?: string): void;
  fetch?: typeof fetch;
  // Waits before reconnecting: 250 ms, doubling to at most maxDelayMs.
  baseDelayMs?: number;
  maxDelayMs?: number;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

export function isFinalStatus(status: string): boolean {
  return FINAL.has(status);
}

// Returns a function that stops the stream.
export function streamRunEvents(runId: string, options: RunStreamOptions): () => void {
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const controller = new AbortController();
  let lastSeq = options.afterSeq ?? 0;
  let stopped = false;
  const setState = (state: StreamState, detail?: string) => {
    if (!stopped || state === 'ended') options.onState?.(state, detail);
  };

  const run = async () => {
    let delay = options.baseDelayMs ?? 250;
    let attempt = 0;
    while (!stopped) {
      setState(attempt === 0 ? 'connecting' : 'reconnecting');
      attempt += 1;
      let finished = false;
      try {
        const response = await doFetch(`/api/runs/${encodeURIComponent(runId)}/events`, {
          headers: { accept: 'text/event-stream', ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}) },
          credentials: 'same-origin',
          signal: controller.signal,
        });
        if (!response.ok || !response.body) {
          // 4xx will not get better by retrying (unknown run, signed out); 5xx might.
          if (response.status >= 400 && response.status < 500) {
            const body = (await response.json().catch(() => ({}))) as { message?: string };
            setState('failed', body.message ?? `The gateway answered ${response.status}`);
            return;
          }
          throw new Error(`status ${response.status}`);
        }
        setState('live');
        delay = options.baseDelayMs ?? 250;
        finished = await readEvents(response.body, (frame) => {
          if (frame.event === 'end') return true;
          if (!frame.data) return false;
          const event = JSON.parse(frame.data) as RunEvent;
          if (typeof event.seq !== 'number' || event.seq <= lastSeq) return isFinalStatus(event.status);
          lastSeq = event.seq;
          options.onEvent(event);
          return isFinalStatus(event.status);
        });
      } catch (error) {
        if (stopped || (error as Error).name === 'AbortError') return;
      }
      if (finished) {
        stopped = true;
        setState('ended');
        return;
      }
      if (stopped) return;
      // The stream closed before the run's final event: resume after the last seq we have.
      setState('reconnecting');
      await sleep(delay, controller.signal);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}

interface Frame {
  id?: string;
  event?: string;
  data?: string;
}

// Parses SSE frames; onFrame returns true when the run is over. Resolves true at the final event,
// false when the connection ended first.
async function readEvents(body: ReadableStream<Uint8Array>, onFrame: (frame: Frame) => boolean): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame = parseFrame(block);
        if (frame && onFrame(frame)) {
          void reader.cancel().catch(() => undefined);
          return true;
        }
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    reader.releaseLock?.();
  }
}

function parseFrame(block: string): Frame | null {
  const frame: Frame = {};
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'id') frame.id = value;
    else if (field === 'event') frame.event = value;
  }
  if (data.length > 0) frame.data = data.join('\n');
  return frame.data !== undefined || frame.event !== undefined ? frame : null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

import type * as Undici from 'undici';

// The SDKs' HTTP transport: a WHATWG fetch over undici's dispatcher, on keep-alive connections
// shared by every call. Node's global fetch (undici's fetch, with its WHATWG streams) and node:http's
// client both cost more CPU per call (decisions 0030 and 0061). undici reports every request on the
// diagnostics channels the tracing's undici instrumentation reads: the provider call is a client
// span, and the trace context goes out with it. No header or body timeout of its own: the SDKs'
// timeout (an abort) bounds every call, and a non-streamed answer may take minutes. A connection
// not made in 10 s (undici's default) fails as a connection error, which the router retries.
const AGENT_OPTIONS = {
  connections: 256,
  headersTimeout: 0,
  bodyTimeout: 0,
  // An idle connection is kept a minute when the provider announces no keep-alive timeout (undici
  // would keep it 4 s): sparse calls then skip a new TLS handshake. An announced one still rules.
  keepAliveTimeout: 60_000,
};
let shared: Undici.Agent | undefined;
// undici is ~50 ms of module loading: required by the first call, not at the service's start.
const dispatcher = (): Undici.Agent => (shared ??= new (require('undici') as typeof Undici).Agent(AGENT_OPTIONS));

// Statuses whose Response must have a null body (the Response constructor throws otherwise).
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

type PlainBody = string | ArrayBufferView | ArrayBuffer | undefined | null;

/**
 * Resolves once the status and headers arrived, like fetch: a `text/event-stream` body streams
 * chunk by chunk as the connection delivers it; any other body is read first, so an abort (the
 * SDK's timeout) covers it too. Bodies we do not send ourselves (streams, forms) and `Request`
 * objects go to the global fetch.
 */
export const agentFetch: typeof fetch = (input, init) => {
  const body = init?.body ?? undefined;
  if (!isPlainBody(body) || !(typeof input === 'string' || input instanceof URL)) return fetch(input, init);
  const url = typeof input === 'string' ? new URL(input) : input;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
  return request(url, init ?? {}, body);
};

function isPlainBody(body: unknown): body is PlainBody {
  return body === undefined || body === null || typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer;
}

function request(url: URL, init: RequestInit, body: PlainBody): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<Response>((resolve, reject) => {
    // undici hands the request's abort over once the request is on a connection; an abort before
    // that rejects at once and is passed on when it arrives.
    let abortRequest: ((err: Error) => void) | undefined;
    let abortedWith: Error | undefined;
    let settled = false;
    let head: ResponseInit = {};
    // A read body's chunks, or the controller of a streamed one.
    let chunks: Buffer[] | undefined;
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    const fail = (err: Error): void => {
      done();
      if (stream) {
        const controller = stream;
        stream = undefined;
        controller.error(isAbort(err) ? err : new TypeError('terminated', { cause: err }));
      }
      if (settled) return;
      settled = true;
      // What undici's fetch rejects with, so the SDKs classify it as a connection error (or a timeout).
      reject(isAbort(err) ? err : new TypeError('fetch failed', { cause: err }));
    };
    const onAbort = (): void => {
      const error = abortError(signal);
      abortedWith = error;
      if (abortRequest) abortRequest(error);
      else fail(error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const handler: Undici.Dispatcher.DispatchHandlers = {
      onConnect(abort) {
        abortRequest = abort;
        if (abortedWith) abort(abortedWith);
      },
      onHeaders(status, rawHeaders, resume, statusText) {
        // Informational answers (100 Continue, 103 Early Hints) come before the real one.
        if (status < 200) return true;
        const headers = responseHeaders(rawHeaders);
        head = { status, statusText, headers };
        if (NULL_BODY_STATUSES.has(status)) {
          settled = true;
          resolve(new Response(null, head));
        } else if ((headers.get('content-type') ?? '').startsWith('text/event-stream')) {
          settled = true;
          resolve(
            new Response(
              new ReadableStream<Uint8Array>({
                start(controller) {
                  stream = controller;
                },
                pull() {
                  resume();
                },
                cancel() {
                  // The SDKs cancel a stream they abandon: the connection is closed, not reused.
                  stream = undefined;
                  done();
                  abortRequest?.(new DOMException('The stream was cancelled', 'AbortError'));
                },
              }),
              head,
            ),
          );
        } else chunks = [];
        return true;
      },
      onData(chunk) {
        if (chunks) {
          chunks.push(chunk);
          return true;
        }
        if (!stream) return true;
        stream.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        // Paused while the reader is behind; pull() resumes it.
        return (stream.desiredSize ?? 1) > 0;
      },
      onComplete() {
        done();
        if (stream) {
          stream.close();
          stream = undefined;
        }
        if (chunks && !settled) {
          settled = true;
          resolve(new ReadResponse(Buffer.concat(chunks), head));
        }
      },
      onError(err) {
        fail(err);
      },
    };
    const headers = headerRecord(init.headers);
    const payload =
      body === undefined || body === null || typeof body === 'string'
        ? body
        : ArrayBuffer.isView(body)
          ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
          : Buffer.from(body);
    dispatcher().dispatch(
      { origin: url.origin, path: url.pathname + url.search, method: (init.method ?? 'GET') as Undici.Dispatcher.HttpMethod, headers, body: payload },
      handler,
    );
  });
}

/**
 * A response whose whole body is already read: the SDKs take it with json() or text(). Wrapping
 * the bytes in a WHATWG body stream and reading them back cost ~10× the JSON parse itself; here
 * the readers decode the buffer directly, and `body` is null as for a body already consumed.
 */
class ReadResponse extends Response {
  // Properties, not methods: that is how the platform's types declare them.
  override text: () => Promise<string>;
  override json: () => Promise<unknown>;
  override arrayBuffer: () => Promise<ArrayBuffer>;
  override blob: () => Promise<Blob>;
  override clone: () => Response;

  constructor(bytes: Buffer, init: ResponseInit) {
    super(null, init);
    this.text = () => Promise.resolve(bytes.toString('utf8'));
    this.json = () => this.text().then((text) => JSON.parse(text) as unknown);
    this.arrayBuffer = () => Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    this.blob = () => Promise.resolve(new Blob([bytes], { type: this.headers.get('content-type') ?? '' }));
    this.clone = () => new ReadResponse(bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
  }
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  if (Array.isArray(headers)) for (const [name, value] of headers) record[name.toLowerCase()] = value;
  // Headers by shape: another realm's Headers is not `instanceof` ours.
  else if (typeof (headers as Headers).forEach === 'function') (headers as Headers).forEach((value, name) => (record[name] = value));
  else for (const [name, value] of Object.entries(headers as Record<string, string>)) record[name.toLowerCase()] = value;
  return record;
}

// Header bytes as node:http reads them (latin1), name and value in turn.
function responseHeaders(raw: Buffer[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append((raw[i] as Buffer).toString('latin1'), (raw[i + 1] as Buffer).toString('latin1'));
  return headers;
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return isAbort(reason) ? (reason as Error) : new DOMException('This operation was aborted', 'AbortError');
}

// By name, not class: DOMException and errors from other realms are not `instanceof Error` everywhere.
function isAbort(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

// The SDKs' HTTP transport: a WHATWG fetch over node:http on keep-alive agents shared by every
// call. Node's global fetch (undici) cost the router more CPU per call than the SDK's own layers;
// node:http is also what the tracing's http instrumentation covers.
const MAX_SOCKETS = 256;
const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' } as const;
const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

// Statuses whose Response must have a null body (the Response constructor throws otherwise).
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * Resolves once the status and headers arrived, like fetch: a `text/event-stream` body streams
 * chunk by chunk as the node response delivers it; any other body is read first, so an abort (the
 * SDK's timeout) covers it too. Bodies we do not send ourselves (streams, forms) and `Request`
 * objects go to the global fetch.
 */
export const agentFetch: typeof fetch = (input, init) => {
  const body = init?.body ?? undefined;
  const plainBody = body === undefined || body === null || typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer;
  if (!plainBody || !(typeof input === 'string' || input instanceof URL)) return fetch(input, init);
  const url = typeof input === 'string' ? new URL(input) : input;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return fetch(input, init);
  return request(url, agent, init ?? {}, body);
};

function request(url: URL, agent: http.Agent, init: RequestInit, body: string | ArrayBufferView | ArrayBuffer | undefined | null): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<Response>((resolve, reject) => {
    const headers = headerRecord(init.headers);
    const payload =
      body === undefined || body === null || typeof body === 'string'
        ? body
        : ArrayBuffer.isView(body)
          ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
          : Buffer.from(body);
    // A known length: without it node:http sends the body chunked, in extra writes.
    if (payload !== undefined && payload !== null && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: init.method ?? 'GET', agent, headers });
    let response: IncomingMessage | undefined;
    let settled = false;
    const onAbort = (): void => {
      const error = abortError(signal);
      req.destroy(error);
      response?.destroy(error);
    };
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      done();
      if (settled) return;
      settled = true;
      // What undici's fetch rejects with, so the SDKs classify it as a connection error (or a timeout).
      reject(isAbort(err) ? err : new TypeError('fetch failed', { cause: err }));
    });
    req.on('response', (res) => {
      response = res;
      const status = res.statusCode ?? 0;
      const head = { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res) };
      if (NULL_BODY_STATUSES.has(status)) {
        res.resume();
        res.on('end', done);
        settled = true;
        resolve(new Response(null, head));
      } else if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        settled = true;
        resolve(new Response(streamOf(res, done), head));
      } else {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          done();
          settled = true;
          resolve(new ReadResponse(Buffer.concat(chunks), head));
        });
        res.on('error', (err) => {
          done();
          if (settled) return;
          settled = true;
          reject(isAbort(err) ? err : new TypeError('fetch failed', { cause: err }));
        });
      }
    });
    if (payload === undefined || payload === null) req.end();
    else req.end(payload);
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

// The node response as a byte stream, paused while the reader is behind; cancelling it (the
// SDKs do when a stream is abandoned) closes the connection.
function streamOf(res: IncomingMessage, done: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on('end', () => {
        done();
        controller.close();
      });
      res.on('error', (err) => {
        done();
        controller.error(isAbort(err) ? err : new TypeError('terminated', { cause: err }));
      });
    },
    pull() {
      res.resume();
    },
    cancel() {
      done();
      res.destroy();
    },
  });
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

function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
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

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyHttpFailure, countAttempt, ProviderFailure } from './chat-provider';

// Provider calls over plain node:http with keep-alive agents shared by every call: the SDKs'
// fetch path (WHATWG streams, per-call header objects, middleware) cost more CPU per call than the
// rest of the router together. Sockets are reused; up to MAX_SOCKETS calls run at once per origin.
const MAX_SOCKETS = 256;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' }),
};

const INITIAL_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8000;

export interface ProviderRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  maxAttempts: number;
  // Per attempt: until the whole body when `stream` is false, until the headers when it is true.
  timeoutMs: number;
  stream: boolean;
}

/**
 * POSTs JSON with the SDKs' retry policy (connection errors, timeouts, 408, 409, 429, 5xx, or what
 * `x-should-retry` says; `retry-after(-ms)` honoured, else exponential backoff from 0.5 s to 8 s),
 * each attempt counted for the router's attempt budget. Resolves with a 2xx response whose body is
 * still unread; anything else becomes a ProviderFailure.
 */
export async function postWithRetries(request: ProviderRequest): Promise<IncomingMessage> {
  for (let attempt = 1; ; attempt++) {
    const retriesLeft = request.maxAttempts - attempt;
    countAttempt();
    let response: IncomingMessage;
    try {
      response = await send(request);
    } catch (err) {
      if (retriesLeft > 0) {
        await sleep(backoffMs(attempt));
        continue;
      }
      throw err instanceof ProviderFailure ? err : classifyHttpFailure(undefined, '', false, true);
    }
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    const text = await readText(response).catch(() => '');
    if (retriesLeft > 0 && shouldRetry(status, response.headers['x-should-retry'])) {
      await sleep(retryAfterMs(response.headers) ?? backoffMs(attempt));
      continue;
    }
    throw classifyHttpFailure(status, errorMessage(text), false, false);
  }
}

function send(request: ProviderRequest): Promise<IncomingMessage> {
  const agent = agents[request.url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new ProviderFailure('not_configured', `unsupported provider URL scheme ${request.url.protocol}`));
  return new Promise((resolve, reject) => {
    const timeout = () => req.destroy(classifyHttpFailure(undefined, '', true, false));
    const timer = setTimeout(timeout, request.timeoutMs);
    const req = (request.url.protocol === 'https:' ? https : http).request(
      request.url,
      { method: 'POST', agent, headers: { ...request.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) } },
      (response) => {
        if (request.stream) {
          clearTimeout(timer);
          resolve(response);
          return;
        }
        // Buffered here so the timeout covers the body too; the caller reads it from `buffered`.
        readText(response).then(
          (text) => {
            clearTimeout(timer);
            resolve(Object.assign(response, { buffered: text }));
          },
          (err: unknown) => {
            clearTimeout(timer);
            reject(err instanceof ProviderFailure ? err : classifyHttpFailure(undefined, '', false, true));
          },
        );
      },
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof ProviderFailure ? err : classifyHttpFailure(undefined, '', false, true));
    });
    req.end(request.body);
  });
}

/** The body of a response: already buffered for non-streamed calls, read here otherwise. */
export function readText(response: IncomingMessage): Promise<string> {
  const buffered = (response as IncomingMessage & { buffered?: string }).buffered;
  if (buffered !== undefined) return Promise.resolve(buffered);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(classifyHttpFailure(undefined, '', false, true)));
  });
}

function shouldRetry(status: number, header: string | string[] | undefined): boolean {
  if (header === 'true') return true;
  if (header === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function retryAfterMs(headers: IncomingMessage['headers']): number | undefined {
  const ms = Number.parseFloat(String(headers['retry-after-ms'] ?? ''));
  const header = headers['retry-after'];
  const seconds = header === undefined ? Number.NaN : Number.parseFloat(header);
  const fromDate = header === undefined || !Number.isNaN(seconds) ? Number.NaN : Date.parse(header) - Date.now();
  const wait = [ms, seconds * 1000, fromDate].find((v) => !Number.isNaN(v));
  return wait !== undefined && wait > 0 && wait <= 2 ** 31 - 1 ? wait : undefined;
}

function backoffMs(attempt: number): number {
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
  return base * (1 - Math.random() * 0.25);
}

// The provider's own words when it sent an error body ({error: {message}}), else the raw text.
export function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: the text itself
  }
  return text;
}

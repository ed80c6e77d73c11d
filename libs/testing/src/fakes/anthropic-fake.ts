import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  AnthropicApiError,
  AnthropicErrorType,
  anthropicId,
  buildMessage,
  errorBody,
  estimateInputTokens,
  formatServerSentEvent,
  isRecord,
  messageStreamEvents,
  validateMessagesRequest,
} from './anthropic-messages-wire';
import { closeServer, listenOnLoopback, readRequestBody, RequestBodyTooLargeError, sendJson } from './loopback-http-server';

export type FakeContentBlock = { type: 'text'; text: string } | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

export interface FakeTurn {
  content: FakeContentBlock[];
  stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  usage?: Partial<{
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
  }>;
  model?: string;
  delayMs?: number;
}

/** An injected failure: an error answer in the real shape, or a request held open (`hangMs`) so the client times out. */
export type FakeFailure = { status: 429 | 500 | 503 | 529 | 400 | 401; type?: string; message?: string; retryAfterSeconds?: number } | { hangMs: number };

export interface RecordedAnthropicRequest {
  // The parsed JSON body (undefined when it was not valid JSON): tests inspect it freely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string | string[] | undefined>;
  stream: boolean;
  receivedAt: number;
}

export type FakeResponder = (request: RecordedAnthropicRequest) => FakeTurn;

export interface AnthropicFakeOptions {
  /** When set, a request whose x-api-key (or bearer token) differs gets 401 authentication_error. */
  apiKey?: string;
  /**
   * Keep only the last this many recorded requests (`received` still counts every one). A
   * benchmark sends thousands, each with the whole tool catalog: kept, they grow its heap by
   * hundreds of MB and its garbage collections with them.
   */
  keepRequests?: number;
}

const ERROR_TYPE_BY_STATUS: Record<number, AnthropicErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'api_error',
  529: 'overloaded_error',
};

const DEFAULT_ERROR_MESSAGE: Record<number, string> = {
  400: 'Invalid request',
  401: 'invalid x-api-key',
  429: 'Number of request tokens has exceeded your per-minute rate limit',
  500: 'Internal server error',
  503: 'Service unavailable',
  529: 'Overloaded',
};

// Models the real API has retired (their date passed): a request naming one gets 404 not_found_error.
const RETIRED_MODELS = new Set(['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-20250514', 'claude-opus-4-20250514']);

const FAKE_MODELS = [
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6' },
  { id: 'claude-opus-4-7', display_name: 'Claude Opus 4.7' },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5' },
];

/**
 * An Anthropic Messages API server on loopback that answers scripted turns in the real JSON and SSE
 * formats, so the real `@anthropic-ai/sdk` client (retries, streaming, timeouts) is exercised over HTTP.
 *
 * Order of answers for `POST /v1/messages`: every request is recorded; authentication and validation come
 * first (a client bug is a 400 whatever is scripted), then injected failures, then scripted turns (FIFO),
 * then the responder.
 */
export class AnthropicFake {
  readonly requests: RecordedAnthropicRequest[] = [];
  /** Message requests received since start (or the last reset), kept or not. */
  received = 0;
  private readonly apiKey: string | undefined;
  private readonly keepRequests: number;
  private readonly scriptedTurns: FakeTurn[] = [];
  private readonly pendingFailures: FakeFailure[] = [];
  private responder: FakeResponder | undefined;
  private server: Server | undefined;

  constructor(options: AnthropicFakeOptions = {}) {
    this.apiKey = options.apiKey;
    this.keepRequests = options.keepRequests ?? Infinity;
    if (!(this.keepRequests >= 0)) throw new Error('keepRequests must be 0 or more');
  }

  /** Listens on 127.0.0.1 (port 0 = any free port); resolves to the base URL to use as ANTHROPIC_BASE_URL. */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error('AnthropicFake is already started');
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) {
          sendJson(response, 500, errorBody({ type: 'api_error', message: `AnthropicFake failed: ${String(error)}` }, anthropicId('req')));
        } else {
          response.destroy();
        }
      });
    });
    // Idle connections stay open as long as Node's default (5 s) like a real API's, so clients
    // reuse them: a 1 s timeout is announced as `keep-alive: timeout=1`, which Node's agent and
    // undici both take as "do not reuse". stop() cuts idle connections itself.
    const url = await listenOnLoopback(server, port);
    this.server = server;
    return url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }

  script(...turns: FakeTurn[]): this {
    this.scriptedTurns.push(...turns);
    return this;
  }

  respondWith(responder: FakeResponder): this {
    this.responder = responder;
    return this;
  }

  failNext(failure: FakeFailure, times = 1): this {
    for (let i = 0; i < times; i++) this.pendingFailures.push(failure);
    return this;
  }

  /** Forgets recorded requests, scripted turns, pending failures and the responder; keeps listening. */
  reset(): void {
    this.requests.length = 0;
    this.received = 0;
    this.scriptedTurns.length = 0;
    this.pendingFailures.length = 0;
    this.responder = undefined;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = anthropicId('req');
    response.setHeader('request-id', requestId);
    const path = new URL(request.url ?? '/', 'http://fake').pathname;

    if (request.method === 'GET' && path === '/health') {
      sendJson(response, 200, { status: 'ok' });
      return;
    }
    if (!path.startsWith('/v1/')) {
      sendError(response, requestId, 404, { type: 'not_found_error', message: `Not found: ${path}` });
      return;
    }
    // Message requests are recorded before authentication, so a test sees what a rejected client sent.
    if (request.method === 'POST' && path === '/v1/messages') {
      await this.handleMessages(request, response, requestId);
      return;
    }
    const authError = this.checkAuthentication(request);
    if (authError) {
      sendError(response, requestId, 401, authError);
      return;
    }
    if (request.method === 'GET' && path === '/v1/models') {
      sendJson(response, 200, modelList());
      return;
    }
    if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
      await handleCountTokens(request, response, requestId);
      return;
    }
    sendError(response, requestId, 404, { type: 'not_found_error', message: `Not found: ${request.method} ${path}` });
  }

  private checkAuthentication(request: IncomingMessage): AnthropicApiError | undefined {
    if (this.apiKey === undefined) return undefined;
    const apiKey = request.headers['x-api-key'];
    const bearer = request.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (apiKey === this.apiKey || bearer === this.apiKey) return undefined;
    return { type: 'authentication_error', message: 'invalid x-api-key' };
  }

  private async handleMessages(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    const parsed = await readJsonBody(request);
    const recorded: RecordedAnthropicRequest = {
      body: parsed.body,
      headers: { ...request.headers },
      stream: isRecord(parsed.body) && parsed.body['stream'] === true,
      receivedAt: Date.now(),
    };
    this.received += 1;
    if (this.requests.push(recorded) > this.keepRequests) this.requests.splice(0, this.requests.length - this.keepRequests);

    const authError = this.checkAuthentication(request);
    if (authError) {
      sendError(response, requestId, 401, authError);
      return;
    }
    if (parsed.error) {
      sendError(response, requestId, parsed.error.type === 'request_too_large' ? 413 : 400, parsed.error);
      return;
    }
    if (request.headers['anthropic-version'] === undefined) {
      sendError(response, requestId, 400, { type: 'invalid_request_error', message: 'anthropic-version: header is required' });
      return;
    }
    const invalidRequest = validateMessagesRequest(parsed.body);
    if (invalidRequest) {
      sendError(response, requestId, 400, invalidRequest);
      return;
    }
    const model = (parsed.body as { model: string }).model;
    if (RETIRED_MODELS.has(model)) {
      sendError(response, requestId, 404, { type: 'not_found_error', message: `model: ${model}` });
      return;
    }

    const failure = this.pendingFailures.shift();
    if (failure) {
      await answerWithFailure(failure, response, requestId);
      return;
    }

    let turn: FakeTurn;
    try {
      turn = this.nextTurn(recorded);
    } catch (error) {
      sendError(response, requestId, 500, { type: 'api_error', message: `AnthropicFake responder threw: ${errorMessage(error)}` });
      return;
    }
    if (turn.delayMs && !(await waitUnlessClosed(turn.delayMs, response))) return;

    const message = buildMessage(turn, parsed.body as Record<string, unknown>);
    if (!recorded.stream) {
      sendJson(response, 200, message);
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    for (const event of messageStreamEvents(message)) response.write(formatServerSentEvent(event));
    response.end();
  }

  private nextTurn(request: RecordedAnthropicRequest): FakeTurn {
    const scripted = this.scriptedTurns.shift();
    if (scripted) return scripted;
    if (this.responder) return this.responder(request);
    throw new Error('no scripted turn left and no responder set (call script() or respondWith())');
  }
}

function sendError(response: ServerResponse, requestId: string, status: number, error: AnthropicApiError, headers: Record<string, string> = {}): void {
  sendJson(response, status, errorBody(error, requestId), headers);
}

async function answerWithFailure(failure: FakeFailure, response: ServerResponse, requestId: string): Promise<void> {
  if ('hangMs' in failure) {
    // No answer at all: the client's own timeout is what this exercises. Afterwards the socket is cut.
    if (await waitUnlessClosed(failure.hangMs, response)) response.socket?.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
  const error: AnthropicApiError = {
    type: (failure.type as AnthropicErrorType | undefined) ?? ERROR_TYPE_BY_STATUS[failure.status],
    message: failure.message ?? DEFAULT_ERROR_MESSAGE[failure.status],
  };
  sendError(response, requestId, failure.status, error, headers);
}

/** Resolves true after `ms`, or false as soon as the client goes away (so no timer outlives the request). */
function waitUnlessClosed(ms: number, response: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      response.off('close', onClose);
      resolve(true);
    }, ms);
    response.once('close', onClose);
  });
}

async function readJsonBody(request: IncomingMessage): Promise<{ body: unknown; error?: AnthropicApiError }> {
  let raw: Buffer;
  try {
    raw = await readRequestBody(request);
  } catch (error) {
    if (error instanceof RequestBodyTooLargeError) return { body: undefined, error: { type: 'request_too_large', message: error.message } };
    throw error;
  }
  try {
    return { body: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { body: undefined, error: { type: 'invalid_request_error', message: 'There was an error parsing the body: invalid JSON' } };
  }
}

async function handleCountTokens(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
  const parsed = await readJsonBody(request);
  if (parsed.error) {
    sendError(response, requestId, 400, parsed.error);
    return;
  }
  if (!isRecord(parsed.body) || !Array.isArray(parsed.body['messages'])) {
    sendError(response, requestId, 400, { type: 'invalid_request_error', message: 'messages: Field required' });
    return;
  }
  sendJson(response, 200, { input_tokens: estimateInputTokens(parsed.body) });
}

function modelList(): object {
  const data = FAKE_MODELS.map((model) => ({ type: 'model', ...model, created_at: '2025-01-01T00:00:00Z' }));
  return { data, has_more: false, first_id: data[0].id, last_id: data[data.length - 1].id };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

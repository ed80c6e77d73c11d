import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readRequestBody, sendJson } from './loopback-http-server';

// An OpenAI-compatible chat completions server on loopback (the shape OpenAI, OpenRouter, Ollama
// and vLLM share): POST /v1/chat/completions as JSON or SSE (`data: {chunk}` … `data: [DONE]`),
// tool calls streamed as indexed argument fragments, usage in the last chunk when
// stream_options.include_usage is set, and errors in the real `{ error: { message, type, code } }` shape.

export interface OpenAiFakeTurn {
  content?: string;
  toolCalls?: Array<{ id?: string; name: string; arguments: Record<string, unknown> | string }>;
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number };
  model?: string;
  delayMs?: number;
}

export type OpenAiFakeFailure =
  { status: 400 | 401 | 404 | 429 | 500 | 502 | 503; message?: string; code?: string; type?: string } | { contextLengthExceeded: true };

export interface RecordedOpenAiRequest {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string | string[] | undefined>;
  stream: boolean;
}

const ERROR_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  502: 'server_error',
  503: 'server_error',
};

export class OpenAiChatFake {
  readonly requests: RecordedOpenAiRequest[] = [];
  private readonly turns: OpenAiFakeTurn[] = [];
  private readonly failures: OpenAiFakeFailure[] = [];
  private responder?: (request: RecordedOpenAiRequest) => OpenAiFakeTurn;
  private server?: Server;

  constructor(private readonly options: { apiKey?: string } = {}) {}

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { message: `OpenAiChatFake failed: ${String(err)}`, type: 'server_error', code: null } });
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 1000;
    const url = await listenOnLoopback(server, port);
    this.server = server;
    // The SDK's base URL includes /v1.
    return `${url}/v1`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }

  script(...turns: OpenAiFakeTurn[]): this {
    this.turns.push(...turns);
    return this;
  }

  respondWith(responder: (request: RecordedOpenAiRequest) => OpenAiFakeTurn): this {
    this.responder = responder;
    return this;
  }

  failNext(failure: OpenAiFakeFailure, times = 1): this {
    for (let i = 0; i < times; i++) this.failures.push(failure);
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.turns.length = 0;
    this.failures.length = 0;
    this.responder = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-request-id', `req_${randomBytes(12).toString('hex')}`);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: 'invalid_request_error', code: 'unknown_url' } });
      return;
    }
    const raw = (await readRequestBody(req)).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const record: RecordedOpenAiRequest = { body, headers: { ...req.headers }, stream: isRecord(body) && body['stream'] === true };
    this.requests.push(record);
    if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      return;
    }
    const invalid = validate(body);
    if (invalid) {
      sendJson(res, 400, { error: { message: invalid, type: 'invalid_request_error', code: null } });
      return;
    }
    const failure = this.failures.shift();
    if (failure) {
      if ('contextLengthExceeded' in failure) {
        sendJson(res, 400, {
          error: {
            message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
            type: 'invalid_request_error',
            code: 'context_length_exceeded',
          },
        });
      } else {
        sendJson(res, failure.status, {
          error: { message: failure.message ?? `fake failure ${failure.status}`, type: failure.type ?? ERROR_TYPE[failure.status], code: failure.code ?? null },
        });
      }
      return;
    }
    const turn = this.turns.shift() ?? this.responder?.(record);
    if (!turn) {
      sendJson(res, 500, { error: { message: 'OpenAiChatFake: no scripted turn and no responder', type: 'server_error', code: null } });
      return;
    }
    if (turn.delayMs) await new Promise((r) => setTimeout(r, turn.delayMs));
    const b = body as Record<string, unknown>;
    const model = turn.model ?? String(b['model']);
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCalls = (turn.toolCalls ?? []).map((c) => ({
      id: c.id ?? `call_${randomBytes(12).toString('hex')}`,
      type: 'function' as const,
      function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
    }));
    const finishReason = turn.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
    const promptTokens = turn.usage?.prompt_tokens ?? Math.max(1, Math.ceil(raw.length / 4));
    const completionTokens = turn.usage?.completion_tokens ?? Math.max(1, Math.ceil(((turn.content ?? '').length + JSON.stringify(toolCalls).length) / 4));
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: turn.usage?.cached_tokens ?? 0 },
    };
    if (!record.stream) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: turn.content ?? null, refusal: null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
            finish_reason: finishReason,
            logprobs: null,
          },
        ],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`,
      );
    chunk({ role: 'assistant', content: '' });
    const text = turn.content ?? '';
    for (let i = 0; i < text.length; i += Math.max(1, Math.ceil(text.length / 3)))
      chunk({ content: text.slice(i, i + Math.max(1, Math.ceil(text.length / 3))) });
    toolCalls.forEach((call, index) => {
      chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
      const args = call.function.arguments;
      const half = Math.ceil(args.length / 2);
      chunk({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] });
      chunk({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] });
    });
    chunk({}, finishReason);
    const streamOptions = b['stream_options'];
    if (isRecord(streamOptions) && streamOptions['include_usage'] === true) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    }
    res.write('data: [DONE]\n\n');
    res.end();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Enough of the real API's rules to catch a translation bug: roles, tool-call pairing, tool shape.
function validate(body: unknown): string | undefined {
  if (!isRecord(body)) return 'We could not parse the JSON body of your request.';
  if (typeof body['model'] !== 'string' || !body['model']) return 'you must provide a model parameter';
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must contain at least one message";
  const openCalls = new Set<string>();
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m)) return `messages[${i}] must be an object`;
    const role = m['role'];
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(String(role))) return `Invalid value for 'messages[${i}].role'`;
    if (role === 'assistant' && Array.isArray(m['tool_calls'])) {
      for (const call of m['tool_calls'] as unknown[]) {
        if (!isRecord(call) || call['type'] !== 'function' || !isRecord(call['function']) || typeof call['function']['arguments'] !== 'string')
          return `messages[${i}].tool_calls: each call needs type function and string arguments`;
        openCalls.add(String(call['id']));
      }
    }
    if (role === 'tool') {
      if (!openCalls.has(String(m['tool_call_id'])))
        return `messages[${i}]: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
      if (typeof m['content'] !== 'string') return `messages[${i}].content must be a string`;
    }
  }
  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return "'tools' must be an array";
    for (const [i, t] of tools.entries()) {
      if (!isRecord(t) || t['type'] !== 'function' || !isRecord(t['function']) || typeof t['function']['name'] !== 'string')
        return `tools[${i}] must be { type: 'function', function: { name, parameters } }`;
    }
  }
  return undefined;
}

import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import sharp from 'sharp';
import { closeServer, listenOnLoopback, readRequestBody, sendJson } from './loopback-http-server';

/** An injected failure: an error answer in OpenAI's shape, or a request held open (`hangMs`) so the client times out. */
export type OpenAiImagesFailure = { status: 400 | 401 | 429 | 500 | 503; message?: string } | { hangMs: number };

export interface RecordedImageRequest {
  endpoint: 'generations' | 'edits';
  headers: Record<string, string | string[] | undefined>;
  /** JSON body, or the multipart text fields. */
  fields: Record<string, string>;
  /** The uploaded `image` file of an edit. */
  image?: { bytes: Buffer; type: string; name: string };
}

/**
 * An OpenAI images API on loopback: POST /v1/images/generations (JSON) and /v1/images/edits
 * (multipart), answering `b64_json` PNGs of the requested size drawn with sharp (a solid colour
 * derived from the prompt), so clients can read them back for real.
 */
export class OpenAiImagesFake {
  readonly requests: RecordedImageRequest[] = [];
  private server?: Server;
  private baseUrl?: string;
  private readonly failures: OpenAiImagesFailure[] = [];
  private readonly sizes: Array<{ width: number; height: number }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: { apiKey?: string } = {}) {}

  get url(): string {
    if (!this.baseUrl) throw new Error('OpenAiImagesFake is not started');
    return this.baseUrl;
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.baseUrl = await listenOnLoopback(this.server, port);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.server) await closeServer(this.server);
  }

  /** The next request(s) fail this way, in order. */
  failNext(failure: OpenAiImagesFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(failure);
  }

  /** The next answer is this size whatever was asked (an oversized or odd provider image). */
  answerNextWithSize(width: number, height: number): void {
    this.sizes.push({ width, height });
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
    this.sizes.length = 0;
  }

  /** The colour an image for this prompt is filled with. */
  static colourFor(prompt: string): { r: number; g: number; b: number } {
    const [r, g, b] = createHash('sha256').update(prompt).digest();
    return { r, g, b };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '').split('?')[0];
      const endpoint = path === '/v1/images/generations' ? 'generations' : path === '/v1/images/edits' ? 'edits' : undefined;
      if (req.method !== 'POST' || !endpoint) return sendError(res, 404, 'invalid_request_error', `Unknown route ${req.method} ${path}`);
      const body = await readRequestBody(req);
      const recorded: RecordedImageRequest = { endpoint, headers: req.headers, fields: {} };
      if (endpoint === 'generations') {
        const parsed: unknown = JSON.parse(body.toString('utf8') || 'null');
        if (!parsed || typeof parsed !== 'object') return sendError(res, 400, 'invalid_request_error', 'Body must be a JSON object');
        for (const [k, v] of Object.entries(parsed)) recorded.fields[k] = String(v);
      } else {
        const form = await new Response(body, { headers: { 'content-type': String(req.headers['content-type'] ?? '') } }).formData();
        for (const [k, v] of form.entries()) {
          if (typeof v === 'string') recorded.fields[k] = v;
          else if (k === 'image') recorded.image = { bytes: Buffer.from(await v.arrayBuffer()), type: v.type, name: v.name };
        }
      }
      this.requests.push(recorded);

      if (this.opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
        return sendError(res, 401, 'invalid_request_error', 'Incorrect API key provided', 'invalid_api_key');
      }
      const failure = this.failures.shift();
      if (failure && 'hangMs' in failure) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!res.writableEnded) sendError(res, 500, 'server_error', 'The server had an error');
        }, failure.hangMs);
        this.timers.add(timer);
        return;
      }
      if (failure) {
        const type = failure.status === 429 ? 'rate_limit_exceeded' : failure.status >= 500 ? 'server_error' : 'invalid_request_error';
        return sendError(res, failure.status, type, failure.message ?? `Injected HTTP ${failure.status}`);
      }

      const { prompt, model, size } = recorded.fields;
      if (!prompt || !model) return sendError(res, 400, 'invalid_request_error', 'prompt and model are required');
      if ((recorded.fields.response_format ?? 'url') !== 'b64_json')
        return sendError(res, 400, 'invalid_request_error', 'This fake only answers response_format b64_json');
      if (endpoint === 'edits' && !recorded.image) return sendError(res, 400, 'invalid_request_error', 'image is required');
      const match = /^(\d+)x(\d+)$/.exec(size ?? '1024x1024');
      if (!match) return sendError(res, 400, 'invalid_request_error', `Invalid size ${size}`);
      const wanted = this.sizes.shift() ?? { width: Number(match[1]), height: Number(match[2]) };
      const png = await sharp({ create: { width: wanted.width, height: wanted.height, channels: 3, background: OpenAiImagesFake.colourFor(prompt) } })
        .png()
        .toBuffer();
      sendJson(res, 200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: png.toString('base64'), revised_prompt: prompt }] });
    } catch (err) {
      if (!res.headersSent) sendError(res, 400, 'invalid_request_error', err instanceof Error ? err.message : 'Bad request');
    }
  }
}

function sendError(res: ServerResponse, status: number, type: string, message: string, code: string | null = null): void {
  sendJson(res, status, { error: { message, type, param: null, code } });
}

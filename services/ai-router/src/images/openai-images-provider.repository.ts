import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';

export interface ImageGenerationParams {
  model: string;
  prompt: string;
  /** `WxH` */
  size: string;
}

export interface ImageEditParams extends ImageGenerationParams {
  image: Uint8Array;
  mimeType: string;
}

// The only code that talks to the image provider: an OpenAI-images-compatible HTTP API.
// Errors carry the HTTP status at most, never the provider's text (it can quote the key).
@Injectable()
export class OpenAiImagesProviderRepository {
  constructor(@Inject(AI_ROUTER_ENV) private readonly env: Pick<AiRouterEnv, 'AI_IMAGE_BASE_URL' | 'AI_IMAGE_API_KEY' | 'AI_IMAGE_TIMEOUT_MS'>) {}

  /** POST /v1/images/generations; resolves to the image's bytes. */
  generate(params: ImageGenerationParams): Promise<Buffer> {
    const body = JSON.stringify({ model: params.model, prompt: params.prompt, size: params.size, response_format: 'b64_json', n: 1 });
    return this.post('/v1/images/generations', body, { 'content-type': 'application/json' });
  }

  /** POST /v1/images/edits (multipart); resolves to the edited image's bytes. */
  edit(params: ImageEditParams): Promise<Buffer> {
    const form = new FormData();
    const extension = params.mimeType.split('/')[1] ?? 'png';
    form.append('image', new Blob([params.image], { type: params.mimeType }), `image.${extension}`);
    form.append('prompt', params.prompt);
    form.append('model', params.model);
    form.append('size', params.size);
    form.append('response_format', 'b64_json');
    form.append('n', '1');
    return this.post('/v1/images/edits', form, {});
  }

  private async post(path: string, body: string | FormData, headers: Record<string, string>): Promise<Buffer> {
    const key = this.env.AI_IMAGE_API_KEY;
    if (!key) throw new AppError(ErrorCode.AI_NOT_CONFIGURED, 'No image provider is configured: set AI_IMAGE_API_KEY for ai-router');
    const url = `${this.env.AI_IMAGE_BASE_URL.replace(/\/+$/, '')}${path}`;
    const signal = AbortSignal.timeout(this.env.AI_IMAGE_TIMEOUT_MS);
    let answer: unknown;
    try {
      const response = await fetch(url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${key}`, accept: 'application/json' }, body, signal });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw statusError(response.status);
      }
      answer = await response.json().catch((err: unknown) => {
        if (isTimeout(err)) throw err;
        throw new AppError(ErrorCode.AI_PROVIDER_ERROR, 'The image provider answered with something that is not JSON');
      });
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (isTimeout(err)) throw new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, `The image provider did not answer within ${this.env.AI_IMAGE_TIMEOUT_MS} ms`);
      throw new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'The image provider could not be reached');
    }
    const b64 = firstImage(answer);
    if (!b64) throw new AppError(ErrorCode.AI_PROVIDER_ERROR, 'The image provider answered without an image');
    return Buffer.from(b64, 'base64');
  }
}

function statusError(status: number): AppError {
  if (status === 429) return new AppError(ErrorCode.AI_RATE_LIMITED, 'The image provider is rate limiting requests; try again shortly');
  if (status >= 500) return new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, `The image provider is overloaded or failing (HTTP ${status})`);
  return new AppError(ErrorCode.AI_PROVIDER_ERROR, `The image provider rejected the request (HTTP ${status})`);
}

// By name: fetch's DOMException may come from another realm (tests), so no instanceof.
function isTimeout(err: unknown): boolean {
  const name = err && typeof err === 'object' && 'name' in err ? err.name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}

function firstImage(answer: unknown): string | undefined {
  if (!answer || typeof answer !== 'object' || !('data' in answer) || !Array.isArray(answer.data)) return undefined;
  const first: unknown = answer.data[0];
  if (!first || typeof first !== 'object' || !('b64_json' in first) || typeof first.b64_json !== 'string' || first.b64_json === '') return undefined;
  return first.b64_json;
}

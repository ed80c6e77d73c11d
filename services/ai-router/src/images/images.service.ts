import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import type Sharp from 'sharp';
import { randomUUID } from 'node:crypto';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { AiMetrics } from '../ai-metrics';
import { imageCostNanoUsd, nanoToUsd, usdToNano } from '../accounting/price-table';
import { UsageEventsRepository } from '../accounting/usage-events.repository';
import { rateLimitedError, utcDay } from '../limits/admission-errors';
import { UsageLedgerRepository, type Admission } from '../limits/usage-ledger.repository';
import { AiModelsConfigService } from '../models/ai-models-config.service';
import { AI_ROUTER_ENV, type AiRouterEnv } from '../config';
import { OpenAiImagesProviderRepository } from './openai-images-provider.repository';

const FORMAT_BY_TYPE = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/webp': 'webp' } as const;
type ImageType = keyof typeof FORMAT_BY_TYPE;
const TYPE_BY_FORMAT: Record<string, ImageType> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };
const MAX_SIDE = 8192;
const DEFAULT_SIDE = 1024;
const DAY_TTL_SECONDS = 2 * 86_400;

interface CheckedImage {
  image: Buffer;
  mimeType: ImageType;
  width: number;
  height: number;
}

@Injectable()
export class ImagesService {
  constructor(
    @Inject(AI_ROUTER_ENV) private readonly env: AiRouterEnv,
    private readonly provider: OpenAiImagesProviderRepository,
    private readonly metrics: AiMetrics,
    private readonly models: AiModelsConfigService,
    private readonly usageEvents: UsageEventsRepository,
    private readonly ledger: UsageLedgerRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async generate(req: RpcRequest<typeof Rpc.aiImageGenerate>): Promise<RpcReply<typeof Rpc.aiImageGenerate>> {
    const mimeType = wantedType(req.mimeType);
    const size = `${side(req.width, 'width')}x${side(req.height, 'height')}`;
    const prompt = wantedPrompt(req.prompt);
    const model = this.imageModel();
    return this.accounted(req, model, () =>
      this.metrics.track(model, async () => {
        const raw = await this.provider.generate({ model, prompt, size });
        return { ...(await asType(raw, mimeType, "The provider's image")), model };
      }),
    );
  }

  async edit(req: RpcRequest<typeof Rpc.aiImageEdit>): Promise<RpcReply<typeof Rpc.aiImageEdit>> {
    const prompt = wantedPrompt(req.prompt);
    const source = await readImage(Buffer.from(req.image), 'The image to edit', ErrorCode.VALIDATION_FAILED);
    // Providers take PNG uploads; the answer goes back in the type the caller sent.
    const upload = source.mimeType === 'image/png' ? source : await asType(source.image, 'image/png', 'The image to edit');
    const outputType = req.mimeType ? wantedType(req.mimeType) : source.mimeType;
    const size = `${req.width ? side(req.width, 'width') : source.width}x${req.height ? side(req.height, 'height') : source.height}`;
    const model = this.imageModel();
    return this.accounted(req, model, () =>
      this.metrics.track(model, async () => {
        const raw = await this.provider.edit({ model, prompt, size, image: upload.image, mimeType: 'image/png' });
        return { ...(await asType(raw, outputType, "The provider's image")), model };
      }),
    );
  }

  private async admit(teamId: string, model: string, day: string): Promise<Admission> {
    if (!teamId) throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'team_id is required: every image call is accounted to a team');
    const config = this.models.current();
    const limits = config.rateLimits.teams[teamId] ?? config.rateLimits;
    const admission: Admission = {
      rate: [{ scope: 'team', id: teamId, requestsPerMinute: limits.requestsPerMinute, tokensPerMinute: 0 }],
      budgets: [
        {
          scope: 'team',
          id: teamId,
          limitNano: usdToNano(config.budgets.teams[teamId] ?? config.budgets.teamUsdPerDay),
          period: day,
          ttlSeconds: DAY_TTL_SECONDS,
        },
      ],
      estimatedTokens: 0,
      estimatedCostNano: imageCostNanoUsd(config.prices, model),
      minute: Math.floor(Date.now() / 60_000),
    };
    const result = await this.ledger.admit(admission);
    if (result.ok) return admission;
    this.metrics.refusals.inc({ reason: result.reason, scope: result.scope });
    if (result.reason === 'budget') {
      throw new AppError(
        ErrorCode.AI_BUDGET_EXCEEDED,
        `The ${result.scope} budget of $${nanoToUsd(result.limitNano).toFixed(2)} would be exceeded by this image ($${nanoToUsd(admission.estimatedCostNano).toFixed(4)}); raise the budget`,
        {
          scope: result.scope,
        },
      );
    }
    throw rateLimitedError(admission, result);
  }

  // The `image` alias of the model config (hot-reloaded); AI_IMAGE_MODEL without a config file.
  private imageModel(): string {
    return this.models.current().aliases.image?.model ?? this.env.AI_IMAGE_MODEL;
  }

  // Every image call is admitted like a model call (the team's requests per minute and daily
  // budget, reserving the image's price), settled with what it cost, and is a usage event.
  private async accounted<T>(req: { teamId: string; appId: string; runId: string }, model: string, call: () => Promise<T>): Promise<T> {
    const day = utcDay();
    const admission = await this.admit(req.teamId, model, day);
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await call();
    } catch (err) {
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
      throw err;
    } finally {
      const prices = this.models.current().prices;
      const costNano = outcome === 'ok' ? imageCostNanoUsd(prices, model) : 0;
      this.ledger
        .settle({
          admission,
          actualTokens: 0,
          actualCostNano: costNano,
          team: req.teamId,
          day,
          usage: { requests: 1, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, cacheHits: 0 },
        })
        .catch((err: unknown) => this.logger.error({ err, teamId: req.teamId }, 'could not settle an image call in Redis; the reservation stays counted'));
      if (costNano) this.metrics.cost.inc({ model, team: req.teamId || 'unknown' }, nanoToUsd(costNano));
      const eventId = randomUUID();
      this.usageEvents
        .publish({
          eventId,
          occurredAt: new Date().toISOString(),
          teamId: req.teamId,
          appId: req.appId,
          runId: req.runId,
          requestedAlias: 'image',
          modelAlias: 'image',
          provider: 'openai-images',
          providerModel: model,
          costUsd: nanoToUsd(costNano),
          priceTableVersion: prices.version,
          latencyMs: performance.now() - started,
          attempts: 1,
          outcome,
        })
        .catch((err: unknown) => {
          this.metrics.usageEventFailures.inc();
          this.logger.error({ err, eventId }, 'could not publish a usage event');
        });
    }
  }
}

function wantedType(mimeType: string): ImageType {
  const type = (mimeType || 'image/png').toLowerCase();
  if (!(type in FORMAT_BY_TYPE)) throw new AppError(ErrorCode.VALIDATION_FAILED, `mime_type ${mimeType} is not image/png, image/jpeg or image/webp`);
  return type as ImageType;
}

function wantedPrompt(prompt: string): string {
  if (!prompt.trim()) throw new AppError(ErrorCode.VALIDATION_FAILED, 'prompt is empty');
  return prompt;
}

function side(value: number, name: string): number {
  if (value === 0) return DEFAULT_SIDE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_SIDE) throw new AppError(ErrorCode.VALIDATION_FAILED, `${name} must be 1-${MAX_SIDE} pixels`);
  return value;
}

// Required on the first image, not at the service's start (~50 ms of module loading).
const sharp = (): typeof Sharp => require('sharp') as typeof Sharp;

// Reads the real format and size (not what a header or the provider claims).
async function readImage(data: Buffer, what: string, code: ErrorCode): Promise<CheckedImage> {
  try {
    const meta = await sharp()(data).metadata();
    const mimeType = meta.format ? TYPE_BY_FORMAT[meta.format] : undefined;
    if (mimeType && meta.width && meta.height) return { image: data, mimeType, width: meta.width, height: meta.height };
  } catch {
    // not an image sharp can read
  }
  throw new AppError(code, `${what} is not a PNG, JPEG or WebP image`);
}

async function asType(data: Buffer, mimeType: ImageType, what: string): Promise<CheckedImage> {
  const image = await readImage(data, what, ErrorCode.AI_PROVIDER_ERROR);
  if (image.mimeType === mimeType) return image;
  try {
    const converted = await sharp()(data).toFormat(FORMAT_BY_TYPE[mimeType]).toBuffer({ resolveWithObject: true });
    return { image: converted.data, mimeType, width: converted.info.width, height: converted.info.height };
  } catch {
    throw new AppError(ErrorCode.AI_PROVIDER_ERROR, `${what} could not be converted to ${mimeType}`);
  }
}

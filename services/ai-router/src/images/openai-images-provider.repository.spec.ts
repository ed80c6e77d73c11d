import { AppError, ErrorCode } from '@overskill/contracts';
import { OpenAiImagesFake } from '@overskill/testing';
import sharp from 'sharp';
import { OpenAiImagesProviderRepository } from './openai-images-provider.repository';

const KEY = 'sk-test-secret-key-123';

describe('OpenAiImagesProviderRepository (against the loopback fake)', () => {
  const fake = new OpenAiImagesFake({ apiKey: KEY });
  let base: string;
  const repo = (over: Partial<{ AI_IMAGE_API_KEY: string | undefined; AI_IMAGE_TIMEOUT_MS: number; AI_IMAGE_BASE_URL: string }> = {}) =>
    new OpenAiImagesProviderRepository({ AI_IMAGE_BASE_URL: base, AI_IMAGE_API_KEY: KEY, AI_IMAGE_TIMEOUT_MS: 5000, ...over });
  const failure = async (promise: Promise<unknown>): Promise<AppError> => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).not.toContain(KEY);
    return err as AppError;
  };

  beforeAll(async () => {
    base = await fake.start();
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('generates: JSON request with the bearer key, b64 PNG of the asked size back', async () => {
    const png = await repo().generate({ model: 'dall-e-3', prompt: 'a red fox', size: '320x200' });
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 320, height: 200 });
    expect(fake.requests).toEqual([
      expect.objectContaining({
        endpoint: 'generations',
        fields: { model: 'dall-e-3', prompt: 'a red fox', size: '320x200', response_format: 'b64_json', n: '1' },
      }),
    ]);
    expect(fake.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('edits: multipart with the image file', async () => {
    const source = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const png = await repo().edit({ model: 'dall-e-3', prompt: 'blue', size: '64x32', image: source, mimeType: 'image/png' });
    expect(await sharp(png).metadata()).toMatchObject({ width: 64, height: 32 });
    expect(fake.requests[0]).toMatchObject({
      endpoint: 'edits',
      fields: { prompt: 'blue', model: 'dall-e-3', size: '64x32', response_format: 'b64_json' },
      image: { type: 'image/png', name: 'image.png' },
    });
    expect(fake.requests[0].image!.bytes.equals(source)).toBe(true);
  });

  it('maps provider failures to the AI error codes, never quoting the key', async () => {
    const params = { model: 'dall-e-3', prompt: 'x', size: '16x16' };
    fake.failNext({ status: 429 });
    expect(await failure(repo().generate(params))).toMatchObject({ code: ErrorCode.AI_RATE_LIMITED });
    fake.failNext({ status: 500 });
    expect(await failure(repo().generate(params))).toMatchObject({ code: ErrorCode.AI_PROVIDER_UNAVAILABLE, message: expect.stringContaining('HTTP 500') });
    fake.failNext({ status: 400, message: `bad request for key ${KEY}` });
    expect(await failure(repo().generate(params))).toMatchObject({ code: ErrorCode.AI_PROVIDER_ERROR, message: expect.stringContaining('HTTP 400') });
    expect(await failure(repo({ AI_IMAGE_API_KEY: 'sk-wrong' }).generate(params))).toMatchObject({
      code: ErrorCode.AI_PROVIDER_ERROR,
      message: expect.stringContaining('HTTP 401'),
    });
    fake.failNext({ hangMs: 2000 });
    expect(await failure(repo({ AI_IMAGE_TIMEOUT_MS: 200 }).generate(params))).toMatchObject({
      code: ErrorCode.AI_PROVIDER_UNAVAILABLE,
      message: expect.stringContaining('200 ms'),
    });
    expect(await failure(repo({ AI_IMAGE_BASE_URL: 'http://127.0.0.1:1' }).generate(params))).toMatchObject({
      code: ErrorCode.AI_PROVIDER_UNAVAILABLE,
      message: 'The image provider could not be reached',
    });
  });

  it('says AI_NOT_CONFIGURED without a key, before any HTTP', async () => {
    expect(await failure(repo({ AI_IMAGE_API_KEY: undefined }).generate({ model: 'm', prompt: 'x', size: '16x16' }))).toMatchObject({
      code: ErrorCode.AI_NOT_CONFIGURED,
    });
    expect(fake.requests).toHaveLength(0);
  });
});

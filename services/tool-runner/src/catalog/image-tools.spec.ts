import { ErrorCode } from '@overskill/contracts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createHarness, type Harness } from '../__tests__/tool-harness';

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .png()
    .toBuffer();
const webp = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#cc3366' } })
    .webp()
    .toBuffer();

describe('image tools', () => {
  let h: Harness;
  afterEach(() => h.close());

  it("generate_image saves a real image of the path's type, through the write lock", async () => {
    const requests: unknown[] = [];
    const answer = await png(1024, 768);
    h = createHarness({
      env: { TOOL_MAX_IMAGE_PIXELS: '1024x1024' },
      deps: {
        images: {
          generate: async (_c: unknown, r: unknown) => (requests.push(r), { image: answer, mimeType: 'image/png', width: 0, height: 0, model: 'img-1' }),
        } as never,
      },
    });
    const reply = await h.run('generate_image', { prompt: 'a hero', path: 'public/hero.png', width: 1024, height: 768 });
    expect(reply).toMatchObject({
      isError: false,
      output: `Generated public/hero.png (1024x768 image/png, ${answer.length} bytes, img-1)`,
      bytesWritten: BigInt(answer.length),
    });
    expect(requests).toEqual([{ prompt: 'a hero', width: 1024, height: 768, mimeType: 'image/png' }]);
    expect(readFileSync(join(h.root, 'public/hero.png')).equals(answer)).toBe(true);
    expect(h.locks).toHaveLength(1);
    expect(await h.run('generate_image', { prompt: 'x', path: 'big.png', width: 2048 })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_INPUT_INVALID,
    });
    expect(await h.run('generate_image', { prompt: 'x', path: 'x.gif' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_INPUT_INVALID });
  });

  it('generate_image shrinks a provider image larger than max_image_size to fit, keeping the aspect', async () => {
    let answer = await png(4096, 2048);
    h = createHarness({
      env: { TOOL_MAX_IMAGE_PIXELS: '1024x1024' },
      deps: { images: { generate: async () => ({ image: answer, mimeType: 'image/png', width: 0, height: 0, model: '' }) } as never },
    });
    expect((await h.run('generate_image', { prompt: 'x', path: 'big.png' })).output).toMatch(
      /^Generated big\.png \(1024x512 image\/png, \d+ bytes, resized from 4096x2048\)$/,
    );
    expect(await sharp(readFileSync(join(h.root, 'big.png'))).metadata()).toMatchObject({ format: 'png', width: 1024, height: 512 });
    answer = await webp(3000, 5000);
    expect((await h.run('generate_image', { prompt: 'x', path: 'tall.webp' })).output).toContain('(614x1024 image/webp');
    expect(await sharp(readFileSync(join(h.root, 'tall.webp'))).metadata()).toMatchObject({ format: 'webp', width: 614, height: 1024 });
  });

  it("generate_image refuses what is not a real image of the path's type", async () => {
    let answer: Uint8Array = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    h = createHarness({ deps: { images: { generate: async () => ({ image: answer, mimeType: 'image/png', width: 0, height: 0, model: '' }) } as never } });
    expect(await h.run('generate_image', { prompt: 'x', path: 'x.png' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_IMAGE_INVALID });
    // A PNG header that lies: no image data behind it.
    answer = (await png(64, 64)).subarray(0, 40);
    expect(await h.run('generate_image', { prompt: 'x', path: 'x.png' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_IMAGE_INVALID });
    answer = await png(10, 10);
    expect(await h.run('generate_image', { prompt: 'x', path: 'x.webp' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_IMAGE_INVALID,
      output: expect.stringContaining('is image/png, not image/webp'),
    });
    expect(h.locks).toHaveLength(0);
  });

  it('edit_image sends the checked original (shrunk when oversized) and saves the result', async () => {
    const sent: Array<{ image: Uint8Array; mimeType: string; width: number; height: number }> = [];
    const result = await png(300, 200);
    h = createHarness({
      deps: {
        images: {
          edit: async (_c: unknown, r: (typeof sent)[number]) => (sent.push(r), { image: result, mimeType: 'image/png', width: 300, height: 200, model: 'm' }),
        } as never,
      },
    });
    writeFileSync(join(h.root, 'logo.png'), await png(300, 200));
    expect((await h.run('edit_image', { path: 'logo.png', prompt: 'make it blue', output_path: 'logo-blue.png' })).output).toBe(
      `Edited logo.png into logo-blue.png (300x200 image/png, ${result.length} bytes)`,
    );
    expect(sent[0]).toMatchObject({ mimeType: 'image/png', width: 300, height: 200 });
    writeFileSync(join(h.root, 'huge.png'), await png(5000, 100));
    expect(await h.run('edit_image', { path: 'huge.png', prompt: 'x' })).toMatchObject({ isError: false });
    expect(sent[1]).toMatchObject({ mimeType: 'image/png', width: 2048, height: 41 });
    expect(await sharp(Buffer.from(sent[1].image)).metadata()).toMatchObject({ width: 2048, height: 41 });
    writeFileSync(join(h.root, 'fake.png'), 'not an image');
    expect(await h.run('edit_image', { path: 'fake.png', prompt: 'x' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_IMAGE_INVALID });
    expect(sent).toHaveLength(2);
  });
});

import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, OpenAiImagesFake, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import sharp from 'sharp';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

const KEY = 'sk-e2e-image-key';

// generate_image / edit_image end to end: tool-runner → ai-router (ai.image.*.v1) → an
// OpenAI-images-compatible provider on loopback; the image lands in the app's workspace.
describe('image tools end to end', () => {
  const stack = integrationStack();
  const provider = new OpenAiImagesFake({ apiKey: KEY });
  const appId = randomUUID();
  const platforms: RunningPlatform[] = [];
  let root: string;
  let nc: NatsConnection;
  let client: NatsRpcClient;

  const call = async (name: string, input: unknown) =>
    client.send(
      Rpc.toolCallExecute,
      { teamId: 'team-e2e', appId, runId: randomUUID(), toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) },
      { timeoutMs: 30_000 },
    );
  const read = (path: string) => sharp(readFileSync(join(root, path))).metadata();

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'tool-images');
    const workspaces = join(dir, 'workspaces');
    root = join(workspaces, appId);
    const base = await provider.start();
    const env = { LOG_LEVEL: 'warn', TOOL_IMAGE_TIMEOUT_MS: '10000', AI_IMAGE_BASE_URL: base, AI_IMAGE_API_KEY: KEY, AI_IMAGE_TIMEOUT_MS: '5000' };
    const common = { root: REPO_ROOT, ...stack, workspacesDir: workspaces, backupDir: join(dir, 'backups') };
    platforms.push(await launchPlatform({ ...common, env, logDir: join(dir, 'logs'), services: ['ai-router', 'tool-runner', 'git-service'] }));
    nc = await connectNats(stack.natsUrl, 'tool-images-e2e', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('tool-images-e2e'), 30_000);
    await client.send(Rpc.gitRepoInit, { appId, template: 'empty' });
  }, 120_000);

  afterEach(() => provider.reset());

  afterAll(async () => {
    await nc?.close();
    for (const p of platforms) await p.stop();
    await provider.stop();
  });

  it('generate_image saves a real PNG of the asked size drawn by the provider', async () => {
    const reply = await call('generate_image', { prompt: 'a calm blue sea', path: 'public/hero.png', width: 640, height: 360 });
    expect(reply).toMatchObject({ isError: false, output: expect.stringMatching(/^Generated public\/hero\.png \(640x360 image\/png, \d+ bytes, dall-e-3\)$/) });
    expect(await read('public/hero.png')).toMatchObject({ format: 'png', width: 640, height: 360 });
    const { r, g, b } = OpenAiImagesFake.colourFor('a calm blue sea');
    const pixel = await sharp(readFileSync(join(root, 'public/hero.png')))
      .extract({ left: 10, top: 10, width: 1, height: 1 })
      .removeAlpha()
      .raw()
      .toBuffer();
    expect([...pixel]).toEqual([r, g, b]);
    expect(provider.requests).toEqual([
      expect.objectContaining({
        endpoint: 'generations',
        fields: expect.objectContaining({ model: 'dall-e-3', size: '640x360', response_format: 'b64_json' }),
      }),
    ]);
  });

  it("converts to the path's type and shrinks an oversized provider image to max_image_size", async () => {
    provider.answerNextWithSize(4096, 3072);
    const reply = await call('generate_image', { prompt: 'a huge mountain', path: 'public/mountain.jpg' });
    expect(reply).toMatchObject({ isError: false, output: expect.stringContaining('(2048x1536 image/jpeg') });
    expect(reply.output).toContain('resized from 4096x3072');
    expect(await read('public/mountain.jpg')).toMatchObject({ format: 'jpeg', width: 2048, height: 1536 });
  });

  it('edit_image sends the image to the provider and saves the edited PNG', async () => {
    writeFileSync(
      join(root, 'logo.png'),
      await sharp({ create: { width: 200, height: 100, channels: 3, background: '#ff0000' } })
        .png()
        .toBuffer(),
    );
    const reply = await call('edit_image', { path: 'logo.png', prompt: 'make it green', output_path: 'logo-green.png' });
    expect(reply).toMatchObject({ isError: false, output: expect.stringMatching(/^Edited logo\.png into logo-green\.png \(200x100 image\/png, \d+ bytes\)$/) });
    expect(await read('logo-green.png')).toMatchObject({ format: 'png', width: 200, height: 100 });
    expect(provider.requests[0]).toMatchObject({
      endpoint: 'edits',
      fields: { prompt: 'make it green', size: '200x100', model: 'dall-e-3' },
      image: { type: 'image/png' },
    });
    expect(await sharp(provider.requests[0].image!.bytes).metadata()).toMatchObject({ width: 200, height: 100 });
  });

  it('a provider 429 is a clear tool error, and nothing is written', async () => {
    provider.failNext({ status: 429 });
    const reply = await call('generate_image', { prompt: 'x', path: 'public/limited.png', width: 64, height: 64 });
    expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.AI_RATE_LIMITED, output: expect.stringContaining('rate limiting') });
    expect(reply.output).not.toContain(KEY);
    expect(() => readFileSync(join(root, 'public/limited.png'))).toThrow();
  });

  it('without AI_IMAGE_API_KEY the tool answers AI_NOT_CONFIGURED', async () => {
    await platforms[0].stop();
    const dir = scratchDir(stack.dataDir, 'tool-images-nokey');
    platforms.push(
      await launchPlatform({
        root: REPO_ROOT,
        ...stack,
        workspacesDir: join(root, '..'),
        backupDir: join(dir, 'backups'),
        logDir: join(dir, 'logs'),
        env: { LOG_LEVEL: 'warn', AI_IMAGE_BASE_URL: provider.url, AI_IMAGE_API_KEY: '' },
        services: ['ai-router', 'tool-runner'],
      }),
    );
    const reply = await call('generate_image', { prompt: 'x', path: 'public/none.png', width: 64, height: 64 });
    expect(reply).toMatchObject({ isError: true, errorCode: ErrorCode.AI_NOT_CONFIGURED, output: expect.stringContaining('AI_IMAGE_API_KEY') });
    expect(provider.requests).toHaveLength(0);
  }, 60_000);
});

import { AppError, ErrorCode } from '@overskill/contracts';
import { posix } from 'node:path';
import { fitImage, type FittedImage } from '../images/image-fit';
import type { ToolLimits } from './tool-definition';
import { defineTool } from './tool-definition';

const EXTENSION_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

function typeForPath(path: string): string {
  const type = EXTENSION_TYPES[posix.extname(path).toLowerCase()];
  if (!type) throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `${path}: images are saved as .png, .jpg/.jpeg or .webp`);
  return type;
}

// Everything that comes back from a model is checked before it lands in the app: a real image
// (decoded with sharp) of the type the path says, shrunk to fit max_image_size when larger.
async function checkImage(data: Uint8Array, limits: ToolLimits, what: string, expectedType?: string): Promise<FittedImage> {
  const image = await fitImage(data, limits.maxImage, what);
  if (expectedType && image.mimeType !== expectedType) throw new AppError(ErrorCode.TOOL_IMAGE_INVALID, `${what} is ${image.mimeType}, not ${expectedType}`);
  return image;
}

function describeImage(image: FittedImage): string {
  const resized = image.resizedFrom ? `, resized from ${image.resizedFrom.width}x${image.resizedFrom.height}` : '';
  return `${image.width}x${image.height} ${image.mimeType}, ${image.content.length} bytes${resized}`;
}

const sizeProperties = (limits: ToolLimits) => ({
  width: { type: 'integer', minimum: 16, maximum: limits.maxImage.width, description: `Pixels, at most ${limits.maxImage.width}` },
  height: { type: 'integer', minimum: 16, maximum: limits.maxImage.height, description: `Pixels, at most ${limits.maxImage.height}` },
});

export const generateImageTool = defineTool<{ prompt: string; path: string; width?: number; height?: number }>({
  name: 'generate_image',
  description: (limits) =>
    `Generate an image from a text prompt and save it in the app (the path's extension picks PNG, JPEG or WebP). At most ${limits.maxImage.width}x${limits.maxImage.height} pixels (a larger image from the model is shrunk to fit); default 1024x1024.`,
  inputSchema: (limits) => ({
    type: 'object',
    additionalProperties: false,
    required: ['prompt', 'path'],
    properties: {
      prompt: { type: 'string', minLength: 1, maxLength: 4000 },
      path: { type: 'string', minLength: 1, maxLength: 512, description: 'Where to save it, e.g. public/hero.png' },
      ...sizeProperties(limits),
    },
  }),
  writes: 'workspace',
  delegatesTo: 'ai-router (ai.image.generate.v1)',
  async run(input, ctx) {
    ctx.workspace.resolve(input.path);
    const mimeType = typeForPath(input.path);
    const width = Math.min(input.width ?? 1024, ctx.limits.maxImage.width);
    const height = Math.min(input.height ?? 1024, ctx.limits.maxImage.height);
    const image = await ctx.deps.images.generate(ctx.call, { prompt: input.prompt, width, height, mimeType });
    const checked = await checkImage(image.image, ctx.limits, 'The generated image', mimeType);
    const written = await ctx.withWriteLock((w) => w.write(input.path, checked.content));
    return {
      output: `Generated ${written.relative} (${describeImage(checked)}${image.model ? `, ${image.model}` : ''})`,
      bytesWritten: checked.content.length,
    };
  },
});

export const editImageTool = defineTool<{ path: string; prompt: string; output_path?: string; width?: number; height?: number }>({
  name: 'edit_image',
  description: (limits) =>
    `Change an image in the app following a prompt, and save the result (over the original unless output_path is given). Images larger than ${limits.maxImage.width}x${limits.maxImage.height} pixels are shrunk to fit (keeping the aspect).`,
  inputSchema: (limits) => ({
    type: 'object',
    additionalProperties: false,
    required: ['path', 'prompt'],
    properties: {
      path: { type: 'string', minLength: 1, maxLength: 512, description: 'The image to edit, relative to the app root' },
      prompt: { type: 'string', minLength: 1, maxLength: 4000 },
      output_path: { type: 'string', minLength: 1, maxLength: 512, description: 'Where to save the result (default: over the original)' },
      ...sizeProperties(limits),
    },
  }),
  writes: 'workspace',
  delegatesTo: 'ai-router (ai.image.edit.v1)',
  async run(input, ctx) {
    const outputPath = input.output_path ?? input.path;
    ctx.workspace.resolve(outputPath);
    const outputType = typeForPath(outputPath);
    const source = await ctx.workspace.read(input.path);
    // An original larger than max_image_size is sent shrunk (the file itself is left alone).
    const original = await checkImage(source.content, ctx.limits, source.relative);
    const image = await ctx.deps.images.edit(ctx.call, {
      prompt: input.prompt,
      image: original.content,
      mimeType: original.mimeType,
      width: input.width ?? original.width,
      height: input.height ?? original.height,
    });
    const checked = await checkImage(image.image, ctx.limits, 'The edited image', outputType);
    const written = await ctx.withWriteLock((w) => w.write(outputPath, checked.content));
    return { output: `Edited ${source.relative} into ${written.relative} (${describeImage(checked)})`, bytesWritten: checked.content.length };
  },
});

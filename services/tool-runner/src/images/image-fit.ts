import { AppError, ErrorCode } from '@overskill/contracts';
import type Sharp from 'sharp';

const TYPE_BY_FORMAT: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

export interface FittedImage {
  content: Buffer;
  mimeType: string;
  width: number;
  height: number;
  /** The size before resizing, when it had to shrink. */
  resizedFrom?: { width: number; height: number };
}

/**
 * Reads an image for real (sharp decodes it: a lying header or an SVG is refused with
 * TOOL_IMAGE_INVALID) and shrinks it to fit inside `max` (aspect kept, same format) when it is larger.
 */
export async function fitImage(data: Uint8Array, max: { width: number; height: number }, what: string): Promise<FittedImage> {
  // Required on the first image, not at the service's start (~50 ms of module loading).
  const sharp = require('sharp') as typeof Sharp;
  const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let meta: Sharp.Metadata;
  try {
    meta = await sharp(input).metadata();
  } catch {
    throw new AppError(ErrorCode.TOOL_IMAGE_INVALID, `${what} is not a PNG, JPEG, GIF or WebP image`);
  }
  const mimeType = meta.format ? TYPE_BY_FORMAT[meta.format] : undefined;
  if (!mimeType) throw new AppError(ErrorCode.TOOL_IMAGE_INVALID, `${what} is not a PNG, JPEG, GIF or WebP image`);
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width === 0 || height === 0) throw new AppError(ErrorCode.TOOL_IMAGE_INVALID, `${what} has no pixels`);
  try {
    if (width <= max.width && height <= max.height) {
      // Decode it once, so a truncated or corrupt file is caught here and not in the app.
      await sharp(input).raw().toBuffer();
      return { content: input, mimeType, width, height };
    }
    const resized = await sharp(input, { animated: meta.format === 'gif' || meta.format === 'webp' })
      .resize({ width: max.width, height: max.height, fit: 'inside', withoutEnlargement: true })
      .toFormat(meta.format as keyof Sharp.FormatEnum)
      .toBuffer({ resolveWithObject: true });
    return {
      content: resized.data,
      mimeType,
      width: resized.info.width,
      height: resized.info.pageHeight ?? resized.info.height,
      resizedFrom: { width, height },
    };
  } catch {
    throw new AppError(ErrorCode.TOOL_IMAGE_INVALID, `${what} could not be decoded (truncated or corrupt)`);
  }
}

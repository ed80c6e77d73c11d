import { AppError, ErrorCode } from '@overskill/contracts';
import { z } from 'zod';

export const createAppBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    template: z.enum(['empty', 'static-web', 'vite-react']).default('static-web'),
  })
  .strict();

export const postMessageBody = z.object({ content: z.string().min(1).max(100_000) }).strict();

export const listAppsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).default(''),
  })
  .strict();

export function parseInput<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`).join('; ');
  throw new AppError(ErrorCode.VALIDATION_FAILED, `Invalid ${where}: ${problems}`);
}

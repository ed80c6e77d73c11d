import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';
import { z } from 'zod';

export const toolRunnerEnvSchema = serviceEnvSchema(3003).extend({
  WORKSPACES_DIR: env.directory(),
  // The seed's tool_limits.max_file_size (10 MB).
  TOOL_MAX_FILE_SIZE_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  // What a tool result may hand back to the model before it is truncated with a marker.
  TOOL_MAX_RESULT_CHARS: z.coerce.number().int().positive().default(100_000),
});
export type ToolRunnerEnv = z.infer<typeof toolRunnerEnvSchema>;
export const TOOL_RUNNER_ENV = Symbol('TOOL_RUNNER_ENV');
